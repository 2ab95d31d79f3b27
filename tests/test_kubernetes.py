"""The baked Kubernetes deployment: valid, safe, and true to the image.

`kubernetes=manifests` bakes deploy/kubernetes/, `kubernetes=helm` a chart in
deploy/helm/, rendered here by Helm itself (helm-python-sdk). Every object is
validated strictly against Kubernetes' schemas (kubernetes-validate), every pod
meets the "restricted" Pod Security Standard, and checkov's Kubernetes and
Dockerfile checks pass, each skipped check carrying its reason.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import helm_python as helm
import kubernetes_validate.utils
import pytest
import yaml

from tests import pod_security
from tests.helpers import (
    ROOT,
    TOOLS,
    Bake,
    case_id,
    catalog_entities,
    default_context,
    run,
    venv_for,
)

# Each way of deploying, with default and with changed image facts.
VARIANTS = [
    {"kubernetes": "manifests"},
    {"kubernetes": "helm"},
    {"kubernetes": "manifests", "app_uid": "20000", "app_gid": "20001", "port": "9000"},
    {"kubernetes": "helm", "app_uid": "20000", "app_gid": "20001", "port": "9000"},
    {"kubernetes": "manifests", "database": "postgresql"},
    {"kubernetes": "helm", "database": "postgresql"},
]
# What a bake with a database adds: the migration.
DATABASE_KINDS = {"Job"}
KINDS = {
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
}


@dataclass
class Deployment:
    """The objects a variant deploys, as files and as parsed YAML."""

    project: Path
    context: dict[str, str]
    files: list[Path]

    @cached_property
    def objects(self) -> dict[str, dict]:
        documents = (yaml.safe_load(path.read_text()) for path in self.files)
        return {document["kind"]: document for document in documents if document}

    @property
    def pod(self) -> dict:
        return self.objects["Deployment"]["spec"]["template"]["spec"]

    @property
    def container(self) -> dict:
        (container,) = self.pod["containers"]
        return container

    @property
    def kinds(self) -> set[str]:
        """The kinds these choices deploy (a Namespace besides, with the manifests)."""
        return KINDS | (DATABASE_KINDS if self.context["database"] == "postgresql" else set())


def render_chart(chart: Path, output: Path, values: dict | None = None) -> list[Path]:
    """`helm template` into one file per template; the release is named after the chart."""
    with helm.Chart.load(str(chart)) as loaded:
        rendered = loaded.render(values or {}, name=loaded.name, namespace=loaded.name)
    files = []
    for name, text in sorted(rendered.items()):
        if text.strip():
            path = output / Path(name).name
            path.write_text(text)
            files.append(path)
    return files


def manifests(project: Path) -> list[Path]:
    """The objects' files, the migration's (deploy/kubernetes/migrate/) among them."""
    directory = project / "deploy" / "kubernetes"
    return sorted(path for path in directory.rglob("*.yaml") if path.name != "kustomization.yaml")


def deployed(variant: dict, bake: Bake, tmp_path_factory) -> Deployment:
    """A variant's objects: its manifests, or its chart as Helm renders it."""
    project = bake(**variant)
    context = default_context(**variant)
    if variant["kubernetes"] == "helm":
        files = render_chart(project / "deploy" / "helm", tmp_path_factory.mktemp("rendered"))
    else:
        files = manifests(project)
    return Deployment(project, context, files)


@pytest.fixture(scope="module", params=VARIANTS, ids=case_id)
def deployment(request, bake: Bake, tmp_path_factory) -> Deployment:
    return deployed(request.param, bake, tmp_path_factory)


# The oldest Kubernetes the baked docs promise, and the newest kubernetes-validate knows.
FLOOR = "1.30"
NEWEST = kubernetes_validate.utils.latest_version()


def validate(*files: Path, version: str = NEWEST) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TOOLS / "kubernetes-validate", "--strict", "--quiet", "-k", version, *files],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("version", [f"{FLOOR}.0", NEWEST])
def test_every_object_validates_strictly(deployment: Deployment, version: str) -> None:
    result = validate(*deployment.files, version=version)

    assert result.returncode == 0, result.stdout + result.stderr
    assert set(deployment.objects) - {"Namespace"} == deployment.kinds


def test_the_docs_state_the_kubernetes_floor(bake: Bake) -> None:
    deploy = (bake(kubernetes="manifests") / "docs" / "deploy.md").read_text()

    assert f"The files need Kubernetes {FLOOR} or newer" in deploy


def test_strict_validation_refuses_an_unknown_field(deployment: Deployment, tmp_path) -> None:
    broken = copy.deepcopy(deployment.objects["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))

    result = validate(tmp_path / "broken.yaml")

    assert result.returncode != 0
    assert "livenessProbes" in result.stdout + result.stderr


def test_pods_meet_the_restricted_pod_security_standard(deployment: Deployment) -> None:
    assert pod_security.violations(deployment.pod) == []
    if "Job" in deployment.objects:
        assert pod_security.violations(deployment.objects["Job"]["spec"]["template"]["spec"]) == []


# Breaking one control of the standard at a time: the checker must notice each.
BREAKS = {
    "hostNetwork": lambda pod: pod.update(hostNetwork=True),
    "privileged": lambda pod: pod["containers"][0]["securityContext"].update(privileged=True),
    "hostPath": lambda pod: pod["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    "hostPort": lambda pod: pod["containers"][0]["ports"][0].update(hostPort=80),
    "allowPrivilegeEscalation": lambda pod: pod["containers"][0]["securityContext"].pop(
        "allowPrivilegeEscalation"
    ),
    "runAsNonRoot": lambda pod: pod["securityContext"].pop("runAsNonRoot"),
    "runAsUser": lambda pod: pod["securityContext"].update(runAsUser=0),
    "seccompProfile": lambda pod: pod["securityContext"].pop("seccompProfile"),
    "capabilities must drop ALL": lambda pod: pod["containers"][0]["securityContext"].pop(
        "capabilities"
    ),
    "only NET_BIND_SERVICE": lambda pod: pod["containers"][0]["securityContext"][
        "capabilities"
    ].update(add=["NET_ADMIN"]),
    "sysctl": lambda pod: pod["securityContext"].update(
        sysctls=[{"name": "kernel.msgmax", "value": "1"}]
    ),
}


@pytest.mark.parametrize("control", BREAKS)
def test_the_pod_security_check_notices_each_broken_control(bake: Bake, control: str) -> None:
    project = bake()
    pod = Deployment(project, {}, manifests(project)).pod
    BREAKS[control](pod)

    assert any(control in violation for violation in pod_security.violations(pod))


def test_the_pod_runs_as_the_image_user_and_port(deployment: Deployment) -> None:
    context, pod, container = deployment.context, deployment.pod, deployment.container
    dockerfile = (deployment.project / "Dockerfile").read_text()

    assert pod["securityContext"]["runAsUser"] == int(context["app_uid"])
    assert pod["securityContext"]["runAsGroup"] == int(context["app_gid"])
    assert f"USER {context['app_uid']}:{context['app_gid']}\n" in dockerfile
    assert container["ports"] == [{"name": "http", "containerPort": int(context["port"])}]
    assert f"UVICORN_PORT={context['port']} " in dockerfile


def test_probes_ask_the_apps_health_endpoints(deployment: Deployment) -> None:
    container = deployment.container
    routes = (deployment.project / "app" / "health.py").read_text()

    for probe, path in [("livenessProbe", "/health"), ("readinessProbe", "/ready")]:
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}
        assert f'app.add_api_route("{path}", ' in routes
    assert container["startupProbe"]["httpGet"]["path"] == "/health"


def test_the_grace_period_outlasts_uvicorns_graceful_shutdown(deployment: Deployment) -> None:
    dockerfile = (deployment.project / "Dockerfile").read_text()
    graceful = int(re.search(r"UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN=(\d+)", dockerfile)[1])
    pre_stop = deployment.container["lifecycle"]["preStop"]["sleep"]["seconds"]

    assert deployment.pod["terminationGracePeriodSeconds"] > pre_stop + graceful


def test_the_root_filesystem_is_read_only_with_a_writable_tmp(deployment: Deployment) -> None:
    container, pod = deployment.container, deployment.pod

    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    (mount,) = [m for m in container["volumeMounts"] if not m.get("readOnly")]
    assert mount["mountPath"] == "/tmp"
    assert {"name": mount["name"], "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def test_resources_are_requested_and_limited(deployment: Deployment) -> None:
    resources = deployment.container["resources"]

    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_every_object_finds_the_pods(deployment: Deployment) -> None:
    objects = deployment.objects
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    name = objects["Deployment"]["metadata"]["name"]
    # The name and the instance select; a label added later (the portal's id) must
    # not, or an upgrade would change the Deployment's immutable selector.
    selector = objects["Deployment"]["spec"]["selector"]["matchLabels"]

    assert sorted(selector) == ["app.kubernetes.io/instance", "app.kubernetes.io/name"]
    assert selector.items() <= labels.items()
    assert objects["Service"]["spec"]["selector"] == selector
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == selector
    assert objects["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"] == selector
    assert objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": name,
    }
    assert objects["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2


def test_the_portal_finds_every_workload_by_the_catalogs_kubernetes_id(
    deployment: Deployment,
) -> None:
    """Backstage's Kubernetes plugin lists the objects labelled with the component's
    backstage.io/kubernetes-id: every object in the namespace, and the pods."""
    catalog = catalog_entities(deployment.project)["Component"]
    kubernetes_id = catalog["metadata"]["annotations"]["backstage.io/kubernetes-id"]
    objects = deployment.objects
    labelled = {
        kind: obj["metadata"]["labels"].get("backstage.io/kubernetes-id")
        for kind, obj in objects.items()
        if kind != "Namespace"
    }
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]

    assert kubernetes_id == deployment.project.name
    assert labelled == dict.fromkeys(deployment.kinds, kubernetes_id)
    assert pod_labels["backstage.io/kubernetes-id"] == kubernetes_id


def test_without_deployment_files_the_catalog_names_no_kubernetes_id(bake: Bake) -> None:
    catalog = catalog_entities(bake(kubernetes="none"))["Component"]

    assert "backstage.io/kubernetes-id" not in catalog["metadata"]["annotations"]


@pytest.mark.slow
def test_checkov_passes_or_says_why_it_skips(deployment: Deployment, tmp_path) -> None:
    checkov = venv_for(ROOT / "requirements-checkov.txt") / "bin" / "checkov"
    for path in [*deployment.files, deployment.project / "Dockerfile"]:
        (tmp_path / path.name).write_bytes(path.read_bytes())

    result = run(
        checkov, "--skip-download", "--output", "json",
        "--framework", "kubernetes", "dockerfile", "--directory", tmp_path,
        cwd=tmp_path,
    )  # fmt: skip

    reports = json.loads(result.stdout)
    assert {report["check_type"] for report in reports} == {"kubernetes", "dockerfile"}
    for report in reports:
        assert report["results"]["failed_checks"] == [], report["results"]["failed_checks"]
        assert report["summary"]["passed"] > 0
        for skipped in report["results"]["skipped_checks"]:
            assert skipped["check_result"]["suppress_comment"].strip(), skipped["check_id"]


def test_the_namespace_enforces_the_restricted_standard(bake: Bake) -> None:
    namespace = yaml.safe_load((bake() / "deploy/kubernetes/namespace.yaml").read_text())

    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_kustomization_applies_every_manifest(bake: Bake) -> None:
    directory = bake() / "deploy" / "kubernetes"
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())

    assert sorted(kustomization["resources"]) == sorted(path.name for path in manifests(bake()))
    assert kustomization["resources"][0] == "namespace.yaml"


@pytest.mark.parametrize("extra", [{}, {"app_uid": "20000", "port": "9000"}], ids=case_id)
def test_the_chart_renders_what_the_manifests_say(bake: Bake, extra: dict, tmp_path) -> None:
    chart = bake(kubernetes="helm", **extra) / "deploy" / "helm"
    project = bake(kubernetes="manifests", **extra)
    # The chart leaves the namespace to `helm --namespace`; everything else must match.
    in_namespace = [path for path in manifests(project) if path.name != "namespace.yaml"]
    plain = Deployment(project, {}, in_namespace)

    rendered = Deployment(chart, {}, render_chart(chart, tmp_path))

    assert rendered.objects == plain.objects


def test_the_chart_lints_clean(bake: Bake) -> None:
    report = helm.lint(str(bake(kubernetes="helm") / "deploy" / "helm"))

    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == [], report["messages"]


def test_the_chart_pins_the_image_by_digest_when_given(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm") / "deploy" / "helm"
    digest = "sha256:" + "a" * 64
    values = {"image": {"repository": "registry.example.com/my-service", "digest": digest}}

    rendered = Deployment(chart, {}, render_chart(chart, tmp_path, values))

    assert rendered.container["image"] == f"registry.example.com/my-service@{digest}"


def test_the_chart_can_turn_the_autoscaler_off(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm") / "deploy" / "helm"

    rendered = Deployment(
        chart, {}, render_chart(chart, tmp_path, {"autoscaling": {"enabled": False}})
    )

    assert "HorizontalPodAutoscaler" not in rendered.objects
    replica_count = yaml.safe_load((chart / "values.yaml").read_text())["replicaCount"]
    assert rendered.objects["Deployment"]["spec"]["replicas"] == replica_count


def test_the_autoscaler_alone_sets_the_replica_count(deployment: Deployment) -> None:
    """A Deployment that names replicas beside an HPA is scaled back on every apply."""
    autoscaler = deployment.objects["HorizontalPodAutoscaler"]["spec"]

    assert "replicas" not in deployment.objects["Deployment"]["spec"]
    assert (
        autoscaler["scaleTargetRef"]["name"] == deployment.objects["Deployment"]["metadata"]["name"]
    )
    assert autoscaler["minReplicas"] >= 2  # the PodDisruptionBudget keeps one of them


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector applied to ``labels`` (an empty one selects all)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    operators = {
        "In": lambda value, values: value in values,
        "NotIn": lambda value, values: value not in values,
        "Exists": lambda value, _: value is not None,
        "DoesNotExist": lambda value, _: value is None,
    }
    return all(
        operators[rule["operator"]](labels.get(rule["key"]), rule.get("values", []))
        for rule in selector.get("matchExpressions", [])
    )


def admitted(policy: dict, namespace: str, port: str | int) -> bool:
    """Whether a pod in ``namespace`` may reach the policy's pods on ``port``, as
    Kubernetes reads the policy: a rule without ``from`` admits every source, one
    without ``ports`` every port. Peers other than namespaces fail the test, so a
    new kind of peer gets read here before it is trusted."""
    labels = {"kubernetes.io/metadata.name": namespace}
    for rule in policy["spec"].get("ingress", []):
        if "ports" in rule and not any(entry.get("port") == port for entry in rule["ports"]):
            continue
        if not rule.get("from"):
            return True
        for peer in rule["from"]:
            assert set(peer) == {"namespaceSelector"}, f"a peer this test cannot read: {peer}"
            if selects(peer["namespaceSelector"], labels):
                return True
    return False


NAMESPACES = ["ingress-nginx", "monitoring", "default", "kube-system", "my-service", "team-a"]


def test_only_the_ingress_controller_and_monitoring_reach_the_service(
    deployment: Deployment,
) -> None:
    policy = deployment.objects["NetworkPolicy"]

    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert [ns for ns in NAMESPACES if admitted(policy, ns, "http")] == [
        "ingress-nginx",
        "monitoring",
    ]
    assert not admitted(policy, "ingress-nginx", 22)


def test_the_chart_admits_the_namespaces_its_values_name(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm") / "deploy" / "helm"
    values = {"networkPolicy": {"fromNamespaces": ["traefik", "team-a"]}}

    policy = Deployment(chart, {}, render_chart(chart, tmp_path, values)).objects["NetworkPolicy"]

    assert [ns for ns in NAMESPACES if admitted(policy, ns, "http")] == ["team-a"]
    assert admitted(policy, "traefik", "http")


def test_the_policy_reader_sees_an_open_policy_as_open() -> None:
    """The reader above, on the policy the files had before: every namespace admitted."""
    open_policy = {"spec": {"policyTypes": ["Ingress"], "ingress": [{"ports": [{"port": "http"}]}]}}

    assert all(admitted(open_policy, ns, "http") for ns in NAMESPACES)
    assert not admitted(open_policy, "default", 22)


def test_the_chart_declares_the_kubernetes_floor_it_is_validated_at(bake: Bake) -> None:
    chart = yaml.safe_load((bake(kubernetes="helm") / "deploy" / "helm" / "Chart.yaml").read_text())

    assert chart["kubeVersion"] == f">={FLOOR}.0-0"


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": "two"}, "at '/replicaCount': got string, want integer"),
        ({"replicas": 3}, "additional properties 'replicas' not allowed"),
        ({"image": {"digest": "sha256:short"}}, "at '/image/digest'"),
        ({"networkPolicy": {"fromNamespaces": []}}, "at '/networkPolicy/fromNamespaces'"),
        ({"autoscaling": {"minReplicas": 1}}, "at '/autoscaling/minReplicas'"),
    ],
    ids=["type", "unknown-key", "digest", "no-namespaces", "one-replica"],
)
def test_values_outside_the_charts_schema_are_refused(
    bake: Bake, values: dict, complaint: str
) -> None:
    chart = bake(kubernetes="helm") / "deploy" / "helm"

    report = helm.lint(str(chart), values)

    assert any(complaint in error for error in report["errors"]), report["errors"]
    with pytest.raises(helm.HelmValuesError), helm.Chart.load(str(chart)) as loaded:
        loaded.render(values, name="release", namespace="release")


def test_pods_are_labelled_by_the_service_name_and_the_release(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm") / "deploy" / "helm"
    with helm.Chart.load(str(chart)) as loaded:
        rendered = loaded.render({}, name="blue", namespace="payments")
    documents = [yaml.safe_load(text) for text in rendered.values() if text.strip()]
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "my-service"
    assert labels["app.kubernetes.io/instance"] == "blue"
    assert labels["backstage.io/kubernetes-id"] == "my-service"  # the service's, any release
    assert deployment["metadata"]["name"] == "blue"


@pytest.fixture(
    scope="module",
    params=[variant for variant in VARIANTS if variant.get("database") == "postgresql"],
    ids=case_id,
)
def with_database(request, bake: Bake, tmp_path_factory) -> Deployment:
    return deployed(request.param, bake, tmp_path_factory)


def secret_files(pod: dict) -> tuple[str, str]:
    """The Secret a pod's container reads as files, and where: the settings' SECRETS."""
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/run/secrets/app"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert mount["readOnly"] is True
    # Readable by the non-root user through its group, by no one else.
    assert volume["secret"]["defaultMode"] == 0o440
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    return volume["secret"]["secretName"], mount["mountPath"]


def test_the_migration_runs_the_pods_image_with_their_secret(with_database: Deployment) -> None:
    job = with_database.objects["Job"]["spec"]["template"]["spec"]
    (migrate,) = job["containers"]
    app = with_database.container

    assert migrate["args"] == ["migrate"]
    assert migrate["image"] == app["image"]
    assert secret_files(job) == secret_files(with_database.pod)
    assert secret_files(with_database.pod) == ("my-service-database", "/run/secrets/app")
    assert migrate["securityContext"] == app["securityContext"]
    assert "env" not in app and "envFrom" not in app  # no secret as a variable


def test_the_migration_fails_the_deploy_rather_than_retrying(with_database: Deployment) -> None:
    job = with_database.objects["Job"]["spec"]

    assert job["backoffLimit"] == 1
    assert job["activeDeadlineSeconds"] == 300
    assert job["template"]["spec"]["restartPolicy"] == "Never"


def test_the_chart_migrates_before_every_install_and_upgrade(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm", database="postgresql") / "deploy" / "helm"
    rendered = Deployment(chart, {}, render_chart(chart, tmp_path))
    annotations = rendered.objects["Job"]["metadata"]["annotations"]

    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"


def test_the_chart_reads_the_database_from_the_secret_its_values_name(bake: Bake, tmp_path) -> None:
    chart = bake(kubernetes="helm", database="postgresql") / "deploy" / "helm"
    values = {"database": {"existingSecret": "payments-db"}}
    rendered = Deployment(chart, {}, render_chart(chart, tmp_path, values))
    job = rendered.objects["Job"]["spec"]["template"]["spec"]

    assert secret_files(rendered.pod)[0] == secret_files(job)[0] == "payments-db"
    assert "password:" not in (chart / "values.yaml").read_text().lower()


def test_the_migration_job_applies_on_its_own(bake: Bake) -> None:
    directory = bake(kubernetes="manifests", database="postgresql") / "deploy" / "kubernetes"
    own = yaml.safe_load((directory / "migrate" / "kustomization.yaml").read_text())
    main = yaml.safe_load((directory / "kustomization.yaml").read_text())

    assert own["resources"] == ["job.yaml"]
    assert not any("migrate" in resource for resource in main["resources"])
