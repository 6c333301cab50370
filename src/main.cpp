#include "app/cli.hpp"

int main(int argc, char** argv) {
  return chrysopedia::app::run_cli(argc, argv);
}
