#!/usr/bin/env python3
"""Checks for docker/ and deploy/k8s/, run by packaging_test.sh.

  packaging_check.py packages DOCKERFILE BINARY
      the final stage's apt packages (with what apt pulls in for them) plus
      the base image's own hold every shared library `ldd BINARY` lists
  packaging_check.py dockerfile REPO
      the Dockerfile keeps its promises: pinned bases, --no-install-recommends,
      cleaned apt lists, no build tools in the final stage, a numeric non-root
      USER, a HEALTHCHECK whose client is installed
  packaging_check.py manifests REPO
      docker-compose.yml and deploy/k8s/*.yaml parse and agree with each other,
      the Dockerfile and the service (probe paths, env names, image, user)
  packaging_check.py healthcheck REPO
      prints the command of the final stage's HEALTHCHECK
  packaging_check.py env REPO compose|k8s
      prints the service's environment as compose or Kubernetes give it, one
      NAME=VALUE a line (the shell test starts the binary with it)

Every failure is one line starting with FAIL; the exit status is 1 if any.
"""
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def finish(what):
    if failures:
        sys.exit(1)
    print("ok: " + what)


# --- Dockerfile ---------------------------------------------------------------


def dockerfile_instructions(path):
    """(keyword, arguments) per instruction, continuation lines joined and
    comment lines dropped, as Docker reads them."""
    instructions = []
    pending = ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line = pending + line
            pending = ""
            if not line.strip():
                continue
            keyword, _, args = line.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def stages(instructions):
    """The instructions split at each FROM; each stage starts with its FROM."""
    result = []
    for ins in instructions:
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def shell_commands(run_args):
    """A RUN's shell command split into simple commands at && ; ||."""
    return [c.strip() for c in re.split(r"&&|;|\|\|", run_args) if c.strip()]


def apt_installs(stage):
    """(command, [packages]) for every apt-get install in the stage's RUNs."""
    found = []
    for keyword, args in stage:
        if keyword != "RUN":
            continue
        for command in shell_commands(args):
            words = shlex.split(command)
            if len(words) >= 2 and words[0] in ("apt-get", "apt") and "install" in words:
                after = words[words.index("install") + 1:]
                found.append((command, [w for w in after if not w.startswith("-")]))
    return found


def final_stage_packages(dockerfile):
    final = stages(dockerfile_instructions(dockerfile))[-1]
    return [p for _, packages in apt_installs(final) for p in packages]


# --- Debian packages ------------------------------------------------------------

# debian:12-slim is `debootstrap --variant=minbase` (the Essential packages and
# apt) with documentation trimmed. Of those we count only these, which every
# such image holds: libc6 (pre-depended on by Essential packages such as
# dpkg and coreutils) and libstdc++6 and libgcc-s1 (apt depends on both).
# What they depend on comes along in the closure below.
BASE_IMAGE_PACKAGES = ["libc6", "libgcc-s1", "libstdc++6"]


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True)


def strip_arch(package):
    return package.split(":")[0].strip()


def provides_map():
    """virtual package -> installed packages that provide it."""
    out = run(["dpkg-query", "-W", "-f=${Package}\t${Provides}\n"]).stdout
    provided = {}
    for line in out.splitlines():
        package, _, provides = line.partition("\t")
        for item in provides.split(","):
            name = strip_arch(item.split("(")[0])
            if name:
                provided.setdefault(name, []).append(package)
    return provided


@functools.lru_cache(maxsize=None)
def dpkg_database():
    """Installed package -> its Depends and Pre-Depends, in one dpkg-query."""
    out = run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\n"])
    database = {}
    for line in out.stdout.splitlines():
        package, status, depends = (line.split("\t") + ["", ""])[:3]
        if status.endswith("install ok installed"):
            database[package] = depends
    return database


def installed(package):
    return package in dpkg_database()


def depends_of(package):
    """The package's Depends and Pre-Depends as a list of alternative lists,
    from dpkg's database or else apt's; None when neither knows it."""
    if installed(package):
        text = dpkg_database()[package]
    else:
        show = run(["apt-cache", "show", "--no-all-versions", package])
        if show.returncode != 0 or not show.stdout.strip():
            return None
        fields = re.findall(r"^(?:Pre-)?Depends: (.*)$", show.stdout, re.M)
        text = ", ".join(fields)
    groups = []
    for group in text.split(","):
        alternatives = [strip_arch(a.split("(")[0]) for a in group.split("|")]
        alternatives = [a for a in alternatives if a]
        if alternatives:
            groups.append(alternatives)
    return groups


def closure(packages, provided):
    """What `apt-get install PACKAGES` leaves installed (Depends and
    Pre-Depends, recursively; for alternatives, the first one this machine
    has, else the first). Unknown names are returned separately."""
    have, unknown = set(), []
    todo = list(packages)
    while todo:
        package = todo.pop()
        if package in have:
            continue
        groups = depends_of(package)
        if groups is None:
            real = provided.get(package)
            if real:
                todo.extend(real[:1])
            else:
                unknown.append(package)
            continue
        have.add(package)
        for alternatives in groups:
            chosen = next((a for a in alternatives if installed(a)), alternatives[0])
            todo.append(chosen)
    return have, unknown


def ldd_libraries(binary):
    """(soname, path) for every shared library the binary loads."""
    out = run(["ldd", binary])
    if out.returncode != 0:
        fail(f"ldd {binary} failed: {out.stderr.strip()}")
        return []
    libraries = []
    for line in out.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            fail(f"ldd: {line}")
            continue
        m = re.match(r"(\S+) => (/\S+)", line) or re.match(r"((/\S+))", line)
        if m:
            name = os.path.basename(m.group(1))
            # The image builds with the release preset; a sanitizer build
            # (CI's asan pass runs this test too) adds only its runtimes.
            if re.match(r"lib(asan|ubsan|lsan|tsan)\.so", name):
                continue
            libraries.append((name, m.group(2)))
    return libraries


def owning_packages(path):
    """The Debian packages that ship the file (tried as ldd names it, as the
    symlink's target, and across the /lib -> /usr/lib merge)."""
    real = os.path.realpath(path)
    candidates = [path, real]
    for p in (path, real):
        if p.startswith("/usr/lib/") or p.startswith("/usr/lib64/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/") or p.startswith("/lib64/"):
            candidates.append("/usr" + p)
    for candidate in candidates:
        out = run(["dpkg", "-S", candidate])
        owners = set()
        for line in out.stdout.splitlines():
            m = re.match(r"([^:][^ ]*(?:, [^ ]+)*): /", line)
            if m and not line.startswith("diversion"):
                owners.update(strip_arch(p) for p in m.group(1).split(","))
        if owners:
            return owners
    return set()


def check_packages(dockerfile, binary):
    listed = final_stage_packages(dockerfile)
    if not listed:
        fail(f"{dockerfile}: no apt-get install in the final stage")
    provided = provides_map()
    have, unknown = closure(listed + BASE_IMAGE_PACKAGES, provided)
    for package in unknown:
        if package in listed:
            fail(f"{dockerfile}: package {package} is unknown to dpkg and apt")
    libraries = ldd_libraries(binary)
    if not libraries:
        fail(f"ldd {binary} listed no libraries")
    for soname, path in libraries:
        owners = owning_packages(path)
        if not owners:
            fail(f"{soname} ({path}): no Debian package ships it (dpkg -S)")
        elif not owners & have:
            fail(
                f"{soname} ({path}) is in package {', '.join(sorted(owners))}, which the "
                f"final stage of {dockerfile} does not install (installs: {' '.join(listed)})"
            )
    finish(
        f"{len(libraries)} libraries of {binary} are covered by the final stage's "
        f"{' '.join(listed)} (+ base {' '.join(BASE_IMAGE_PACKAGES)})"
    )


def check_dockerfile(repo):
    path = os.path.join(repo, "docker/Dockerfile")
    all_stages = stages(dockerfile_instructions(path))
    if len(all_stages) < 2:
        fail(f"{path}: expected a multi-stage build, found {len(all_stages)} stage(s)")
        return finish("Dockerfile")
    for stage in all_stages:
        image = stage[0][1].split()[0]
        if image != "debian:12-slim":
            fail(f"{path}: FROM {image}: every stage starts from debian:12-slim")
        for command, _ in apt_installs(stage):
            if "--no-install-recommends" not in command:
                fail(f"{path}: '{command}' lacks --no-install-recommends")
        for keyword, args in stage:
            if keyword == "RUN" and "apt-get update" in args and "rm -rf /var/lib/apt/lists" not in args:
                fail(f"{path}: a RUN with apt-get update must remove /var/lib/apt/lists/*")
    final = all_stages[-1]
    packages = final_stage_packages(path)
    for p in packages:
        if re.search(r"-dev$|^(g\+\+|gcc|cpp|cmake|ninja-build|make|pkg-config)(-|$)", p):
            fail(f"{path}: build tool or -dev package {p} in the final stage")
    users = [args for keyword, args in final if keyword == "USER"]
    if not users or not re.fullmatch(r"\d+(:\d+)?", users[-1]) or users[-1].split(":")[0] == "0":
        fail(f"{path}: the final stage needs a numeric non-root USER (got {users})")
    healthchecks = [args for keyword, args in final if keyword == "HEALTHCHECK"]
    if not healthchecks:
        fail(f"{path}: no HEALTHCHECK in the final stage")
    else:
        cmd = healthchecks[-1].split("CMD", 1)[1].strip()
        if "/healthz" not in cmd:
            fail(f"{path}: the HEALTHCHECK should ask /healthz (liveness): {cmd}")
        client = shlex.split(cmd)[0]
        if client in ("curl", "wget") and client not in packages:
            fail(f"{path}: the HEALTHCHECK uses {client}, which the final stage does not install")
        if subprocess.run(["sh", "-n", "-c", cmd]).returncode != 0:
            fail(f"{path}: the HEALTHCHECK command is not valid sh: {cmd}")
    entrypoints = [args for keyword, args in final if keyword == "ENTRYPOINT"]
    copies = " ".join(args for keyword, args in final if keyword == "COPY")
    if not entrypoints or "entrypoint.sh" not in entrypoints[-1]:
        fail(f"{path}: ENTRYPOINT should be docker/entrypoint.sh")
    elif "docker/entrypoint.sh" not in copies:
        fail(f"{path}: docker/entrypoint.sh is not copied into the final stage")
    if "data/sample-corpus.jsonl" not in copies:
        fail(f"{path}: data/sample-corpus.jsonl (the migrate jobs' input) is not in the image")
    build_runs = " ".join(args for keyword, args in all_stages[0] if keyword == "RUN")
    if "--preset release" not in build_runs:
        fail(f"{path}: the build stage should configure with cmake --preset release")
    finish("Dockerfile")


# --- compose and Kubernetes ---------------------------------------------------


def load_yaml(path, many=False):
    import yaml

    with open(path) as f:
        try:
            return list(yaml.safe_load_all(f)) if many else yaml.safe_load(f)
        except yaml.YAMLError as e:
            fail(f"{path}: not YAML: {e}")
            return [] if many else {}


def known_settings(repo):
    with open(os.path.join(repo, "src/config/settings_loader.cpp")) as f:
        return set(re.findall(r'\{"([A-Z][A-Z0-9_]*)",', f.read()))


def compose_default(value):
    """${NAME:-default} -> default, as compose gives it with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:?-([^}]*)\}", r"\1", str(value))


def compose_env(repo):
    compose = load_yaml(os.path.join(repo, "docker/docker-compose.yml"))
    env = compose.get("services", {}).get("chat", {}).get("environment", {}) or {}
    return {k: compose_default(v) for k, v in env.items()}


def k8s_objects(repo):
    base = os.path.join(repo, "deploy/k8s")
    kustomization = load_yaml(os.path.join(base, "kustomization.yaml"))
    objects = []
    for resource in kustomization.get("resources", []):
        path = os.path.join(base, resource)
        if not os.path.exists(path):
            fail(f"kustomization.yaml names {resource}, which does not exist")
            continue
        for doc in load_yaml(path, many=True):
            if doc:
                objects.append((resource, doc))
    return kustomization, objects


def find(objects, kind):
    return [doc for _, doc in objects if doc.get("kind") == kind]


def k8s_env(repo):
    _, objects = k8s_objects(repo)
    env = {}
    for kind in ("ConfigMap", "Secret"):
        for doc in find(objects, kind):
            env.update({k: str(v) for k, v in (doc.get("data") or {}).items()})
            env.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
    return env


def grace_seconds(env, where):
    try:
        return int(env.get("SHUTDOWN_GRACE_SECONDS", "25"))
    except ValueError:
        fail(f"{where}: SHUTDOWN_GRACE_SECONDS is not a number")
        return 25


def parse_duration(text):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(text))
    if not m or not any(m.groups()):
        return None
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def check_compose(repo, settings):
    path = os.path.join(repo, "docker/docker-compose.yml")
    compose = load_yaml(path)
    services = compose.get("services", {})
    for name in ("postgres", "redis", "migrate", "chat"):
        if name not in services:
            fail(f"{path}: no service {name}")
            return None
    if not str(services["postgres"].get("image", "")).startswith("postgres:15"):
        fail(f"{path}: postgres should be postgres:15*")
    if not str(services["redis"].get("image", "")).startswith("redis:7"):
        fail(f"{path}: redis should be redis:7*")
    for name in ("postgres", "redis", "chat"):
        if not services[name].get("healthcheck", {}).get("test"):
            fail(f"{path}: {name} has no healthcheck")
    if "/readyz" not in str(services["chat"].get("healthcheck", {}).get("test")):
        fail(f"{path}: chat's healthcheck gates dependants, so it should ask /readyz")
    if services["migrate"].get("command") != ["import", "data/sample-corpus.jsonl"]:
        fail(f"{path}: migrate should run import data/sample-corpus.jsonl")
    if services["migrate"].get("image") != services["chat"].get("image"):
        fail(f"{path}: migrate and chat should run the same image")
    wants = {
        "migrate": {"postgres": "service_healthy"},
        "chat": {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        },
    }
    for service, deps in wants.items():
        depends = services[service].get("depends_on", {})
        for dep, condition in deps.items():
            got = (depends.get(dep) or {}).get("condition") if isinstance(depends, dict) else None
            if got != condition:
                fail(f"{path}: {service} should depend on {dep} with {condition}, has {got}")
    if "ollama" not in (services.get("ollama", {}).get("profiles") or []):
        fail(f"{path}: no ollama service in an ollama profile")
    with open(path) as f:
        if "http://ollama:11434/v1" not in f.read():
            fail(f"{path}: should say LLM_API_URL=http://ollama:11434/v1 for the ollama profile")
    webui = services.get("open-webui", {})
    if "openwebui" not in (webui.get("profiles") or []):
        fail(f"{path}: no open-webui service in an openwebui profile")
    webui_env = webui.get("environment", {})
    if webui_env.get("OPENAI_API_BASE_URL") != "http://chat:8000/v1":
        fail(f"{path}: open-webui should reach the service at http://chat:8000/v1")
    for task in ("TITLE", "TAGS", "FOLLOW_UP", "AUTOCOMPLETE"):
        if str(webui_env.get(f"ENABLE_{task}_GENERATION")).lower() != "false":
            fail(f"{path}: open-webui should set ENABLE_{task}_GENERATION=false")
    if (webui.get("depends_on") or {}).get("chat", {}).get("condition") != "service_healthy":
        fail(f"{path}: open-webui should wait for chat to be healthy")
    env = services["chat"].get("environment", {})
    for name in env:
        if name not in settings:
            fail(f"{path}: chat's {name} is not a setting the service reads")
    for name in ("DATABASE_URL", "REDIS_URL", "LLM_API_URL"):
        if name not in env:
            fail(f"{path}: chat's environment lacks {name}")
    stop = parse_duration(services["chat"].get("stop_grace_period", "10s"))
    grace = grace_seconds(compose_env(repo), path)
    if stop is None or stop <= grace:
        fail(f"{path}: chat's stop_grace_period must exceed SHUTDOWN_GRACE_SECONDS ({grace})")
    check_fleet(repo, path, services, settings)
    return services["chat"].get("image")


def haproxy_lines(path):
    with open(path) as f:
        return [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]


def check_fleet(repo, path, services, settings):
    """The fleet profile: replicas behind HAProxy, configured as scripts/fleet's."""
    replica = services.get("chat-replica", {})
    balancer = services.get("balancer", {})
    if "fleet" not in (replica.get("profiles") or []) or "fleet" not in (balancer.get("profiles") or []):
        fail(f"{path}: chat-replica and balancer should be in a fleet profile")
        return
    if (replica.get("deploy") or {}).get("replicas", 1) < 2:
        fail(f"{path}: the fleet profile should run at least 2 chat-replica replicas")
    if replica.get("image") != services["chat"].get("image"):
        fail(f"{path}: chat-replica should run chat's image")
    env = replica.get("environment", {})
    for name in env:
        if name not in settings:
            fail(f"{path}: chat-replica's {name} is not a setting the service reads")
    address = ((balancer.get("networks") or {}).get("default") or {}).get("ipv4_address")
    if not address or env.get("TRUSTED_PROXIES") != address:
        fail(f"{path}: chat-replica's TRUSTED_PROXIES should be the balancer's address ({address})")
    mount = "../deploy/haproxy/compose.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"
    if mount not in (balancer.get("volumes") or []):
        fail(f"{path}: the balancer should mount {mount}")
    compose_cfg = os.path.join(repo, "deploy/haproxy/compose.cfg")
    fleet_cfg = os.path.join(repo, "deploy/haproxy/fleet.cfg.in")
    compose_lines = set(haproxy_lines(compose_cfg))
    # The settings that make streams work behind the balancer, in both.
    for line in haproxy_lines(fleet_cfg):
        if line.split()[0] in ("timeout", "option", "balance", "http-check", "http-response", "retries"):
            if line not in compose_lines:
                fail(f"deploy/haproxy/compose.cfg lacks fleet.cfg.in's \"{line}\"")
    if not any("chat-replica:8000" in line and line.startswith("server-template") for line in compose_lines):
        fail("deploy/haproxy/compose.cfg should find the replicas as chat-replica:8000")
    if "option httpchk GET /healthz" not in compose_lines:
        fail("deploy/haproxy: the health check should be /healthz (/readyz fails with Redis away)")
    if shutil.which("haproxy"):
        for cfg in (compose_cfg,):
            r = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True)
            if r.returncode != 0:
                fail(f"{cfg}: haproxy -c says: {r.stdout}{r.stderr}")


def check_k8s(repo, settings, compose_image, dockerfile_user):
    kustomization, objects = k8s_objects(repo)
    kinds = {doc.get("kind") for _, doc in objects}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret", "Job"):
        if kind not in kinds:
            fail(f"deploy/k8s: no {kind} in kustomization.yaml's resources")
    if failures:
        return
    deployment = find(objects, "Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"].get("labels", {})
    selector = deployment["spec"]["selector"].get("matchLabels", {})
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        fail("Deployment: its selector does not match its pod labels")
    container = pod["containers"][0]
    probes = {
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, wanted in probes.items():
        got = container.get(probe, {}).get("httpGet", {}).get("path")
        if got != wanted:
            fail(f"Deployment: {probe} should GET {wanted}, has {got}")
    port_names = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        port = container.get(probe, {}).get("httpGet", {}).get("port")
        if port is not None and port not in port_names and port not in port_names.values():
            fail(f"Deployment: {probe} port {port} is not a container port")
    resources = container.get("resources", {})
    if not resources.get("requests") or not resources.get("limits"):
        fail("Deployment: the container needs resource requests and limits")

    def check_security(name, pod_spec, c):
        pod_sc, sc = pod_spec.get("securityContext", {}), c.get("securityContext", {})
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        user = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if non_root is not True:
            fail(f"{name}: runAsNonRoot must be true")
        if user is None or user == 0:
            fail(f"{name}: runAsUser must be a non-zero uid")
        elif dockerfile_user and str(user) != dockerfile_user:
            fail(f"{name}: runAsUser {user} differs from the Dockerfile's USER {dockerfile_user}")
        if sc.get("readOnlyRootFilesystem") is not True:
            fail(f"{name}: readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            fail(f"{name}: allowPrivilegeEscalation must be false")

    check_security("Deployment", pod, container)

    env = k8s_env(repo)
    for name in env:
        if name not in settings:
            fail(f"deploy/k8s: {name} (ConfigMap/Secret) is not a setting the service reads")
    secret_keys = set()
    for doc in find(objects, "Secret"):
        secret_keys |= set((doc.get("stringData") or {}).keys()) | set((doc.get("data") or {}).keys())
    for name in ("DATABASE_URL", "REDIS_URL", "LLM_API_KEY"):
        if name not in secret_keys:
            fail(f"deploy/k8s: the Secret should hold {name}")
        for doc in find(objects, "ConfigMap"):
            if name in (doc.get("data") or {}):
                fail(f"deploy/k8s: {name} belongs in the Secret, not the ConfigMap")
    names = {(doc["kind"], doc["metadata"]["name"]) for _, doc in objects}

    def check_env_from(name, c):
        for source in c.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source and (kind, source[key]["name"]) not in names:
                    fail(f"{name}: envFrom names {kind} {source[key]['name']}, which is not here")
        if not c.get("envFrom"):
            fail(f"{name}: takes no envFrom (ConfigMap and Secret)")

    check_env_from("Deployment", container)

    grace = grace_seconds(env, "deploy/k8s ConfigMap")
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    sleep = 0
    command = pre_stop.get("exec", {}).get("command", [])
    if command[:1] == ["sleep"] and len(command) == 2:
        sleep = int(command[1])
    elif "sleep" in pre_stop:
        sleep = int(pre_stop["sleep"].get("seconds", 0))
    termination = pod.get("terminationGracePeriodSeconds", 30)
    if termination <= grace + sleep:
        fail(
            f"Deployment: terminationGracePeriodSeconds {termination} must exceed "
            f"SHUTDOWN_GRACE_SECONDS {grace} + preStop sleep {sleep}"
        )

    service = find(objects, "Service")[0]
    if any(labels.get(k) != v for k, v in service["spec"].get("selector", {}).items()):
        fail("Service: its selector does not match the Deployment's pods")
    for port in service["spec"].get("ports", []):
        target = port.get("targetPort", port.get("port"))
        if target not in port_names and target not in port_names.values():
            fail(f"Service: targetPort {target} is not a container port")
    hpa = find(objects, "HorizontalPodAutoscaler")[0]
    target = hpa["spec"]["scaleTargetRef"]
    if target.get("kind") != "Deployment" or target.get("name") != deployment["metadata"]["name"]:
        fail("HorizontalPodAutoscaler: scaleTargetRef is not the Deployment")

    job = find(objects, "Job")[0]
    job_pod = job["spec"]["template"]["spec"]
    job_container = job_pod["containers"][0]
    if job_container.get("args") != ["import", "data/sample-corpus.jsonl"]:
        fail("Job: should run import data/sample-corpus.jsonl (import migrates first)")
    check_security("Job", job_pod, job_container)
    check_env_from("Job", job_container)

    images = {container.get("image"), job_container.get("image")}
    if len(images) != 1:
        fail(f"deploy/k8s: the Deployment and the Job run different images {sorted(images)}")
    image = images.pop()
    if image != compose_image:
        fail(f"deploy/k8s runs {image}, docker-compose.yml builds {compose_image}")
    repository, _, tag = image.partition(":")
    entries = {i.get("name"): i for i in kustomization.get("images", [])}
    if repository not in entries:
        fail(f"kustomization.yaml: images has no entry for {repository}")
    elif entries[repository].get("newTag", tag) != tag:
        fail(f"kustomization.yaml: newTag {entries[repository].get('newTag')} differs from {tag}")


def check_manifests(repo):
    settings = known_settings(repo)
    if not settings:
        fail("found no setting names in src/config/settings_loader.cpp")
    final = stages(dockerfile_instructions(os.path.join(repo, "docker/Dockerfile")))[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    dockerfile_user = users[-1].split(":")[0] if users else None
    compose_image = check_compose(repo, settings)
    check_k8s(repo, settings, compose_image, dockerfile_user)
    finish("docker-compose.yml and deploy/k8s agree")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    command = sys.argv[1]
    if command == "packages" and len(sys.argv) == 4:
        check_packages(sys.argv[2], sys.argv[3])
    elif command == "dockerfile":
        check_dockerfile(sys.argv[2])
    elif command == "manifests":
        check_manifests(sys.argv[2])
    elif command == "healthcheck":
        final = stages(dockerfile_instructions(os.path.join(sys.argv[2], "docker/Dockerfile")))[-1]
        for keyword, args in final:
            if keyword == "HEALTHCHECK":
                print(args.split("CMD", 1)[1].strip())
    elif command == "env" and len(sys.argv) == 4:
        env = compose_env(sys.argv[2]) if sys.argv[3] == "compose" else k8s_env(sys.argv[2])
        for name, value in env.items():
            print(f"{name}={value}")
        if failures:
            sys.exit(1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
