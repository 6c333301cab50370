# One line naming the machine a benchmark ran on, for its report: cores,
# CPU model, memory. Sourced by every bench/*.sh that writes a report, so
# the reports name machines alike.
#   machine_line
machine_line() {
  echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB"
}
