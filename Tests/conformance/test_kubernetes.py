"""deploy/kubernetes, offline: every manifest is valid against the Kubernetes schemas (kubernetes-validate bundles
them; strict, so a misspelt field fails), the kustomization lists exactly the files there, every environment name
the manifests give a container is a setting the code reads (Sources/IPAMCore/Setting.swift), every container runs
as the restricted profile asks, and every command line they run is one the executables accept."""
import os
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FOLDER = os.path.join(ROOT, "deploy", "kubernetes")
# The oldest Kubernetes minor AKS and EKS still support at the time of writing, and the newest the package knows.
VERSIONS = ["1.31.0", kubernetes_validate.utils.latest_version()]


def kustomization():
    with open(os.path.join(FOLDER, "kustomization.yaml")) as file:
        return yaml.safe_load(file)


def documents():
    """(file, document) for every resource the kustomization lists."""
    out = []
    for name in kustomization()["resources"]:
        with open(os.path.join(FOLDER, name)) as file:
            out += [(name, document) for document in yaml.safe_load_all(file) if document]
    return out


def pod_specs():
    for name, document in documents():
        if document["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            yield name, document["metadata"]["name"], document["spec"]["template"]["spec"]
        elif document["kind"] == "CronJob":
            yield name, document["metadata"]["name"], document["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def settings_the_code_reads():
    text = open(os.path.join(ROOT, "Sources", "IPAMCore", "Setting.swift")).read()
    names = set(re.findall(r'case \w+ = "([^"]+)"', text))
    assert len(names) > 40
    return names


def test_the_kustomization_lists_every_manifest_and_nothing_else():
    listed = set(kustomization()["resources"])
    present = {name for name in os.listdir(FOLDER) if name.endswith(".yaml") and name != "kustomization.yaml"}
    assert listed == present
    assert kustomization()["kind"] == "Kustomization"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version):
    kinds = set()
    for name, document in documents():
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {document['kind']} {document['metadata']['name']}: {error.message} at {list(error.path)}")
        kinds.add(document["kind"])
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "ConfigMap", "Secret",
            "ServiceAccount"} <= kinds


def test_the_validation_catches_a_misspelt_field():
    """The check above is real: a field the schema does not know fails it."""
    name, document = next((n, d) for n, d in documents() if d["kind"] == "Deployment")
    document["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, VERSIONS[0], strict=True)


def test_every_environment_name_is_a_setting_the_code_reads():
    known = settings_the_code_reads()
    by_name = {(d["kind"], d["metadata"]["name"]): d for _, d in documents()}
    seen = set()
    for name, workload, spec in pod_specs():
        for container in spec["containers"]:
            for variable in container.get("env", []):
                seen.add(variable["name"])
                assert variable["name"] in known, f"{name}: {workload} sets {variable['name']}, which no code reads"
            for source in container.get("envFrom", []):
                kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source else ("Secret", source["secretRef"])
                document = by_name[(kind, ref["name"])]
                for key in list(document.get("data", {})) + list(document.get("stringData", {})):
                    seen.add(key)
                    assert key in known, f"{kind} {ref['name']} (for {workload}) has {key}, which no code reads"
    # The settings a deployment cannot do without are given.
    assert {"AzureWebJobsStorage__accountName", "SUPERNETS_CONFIG", "SCOPE_CONFIG_MANIFEST", "VENDOR_API_KEYS",
            "AUDIT_SALT", "IPAM_VENDOR_URL"} <= seen


def test_the_names_check_would_catch_an_unknown_name():
    assert "VENDOR_API_KEY" not in settings_the_code_reads(), "a near miss is not a setting"
    assert "AZURE_FEDERATED_TOKEN_FILE" in settings_the_code_reads(), "workload identity's file is read"


def test_every_pod_runs_restricted_as_the_image_user():
    workloads = set()
    for name, workload, spec in pod_specs():
        workloads.add(workload)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 65532 and pod["runAsGroup"] == 65532, workload
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", workload
        assert spec["automountServiceAccountToken"] is False, workload
        assert spec["serviceAccountName"] == "ipam", workload
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, workload
            assert context["readOnlyRootFilesystem"] is True, workload
            assert context["capabilities"]["drop"] == ["ALL"], workload
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"] and resources["limits"]["memory"], workload
            assert container["image"] == "ipam", "the kustomization's images entry names the registry"
    assert workloads == {"ipam-vendor", "ipam-manager", "ipam-mcp"}


def test_the_vendor_is_probed_spread_and_autoscaled():
    by_kind = {}
    for _, document in documents():
        by_kind.setdefault(document["kind"], []).append(document)
    vendor = next(d for d in by_kind["Deployment"] if d["metadata"]["name"] == "ipam-vendor")
    container = vendor["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    labels = vendor["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    hpa = next(d for d in by_kind["HorizontalPodAutoscaler"] if d["metadata"]["name"] == "ipam-vendor")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ipam-vendor" and hpa["spec"]["minReplicas"] >= 2
    pdb = next(d for d in by_kind["PodDisruptionBudget"] if d["metadata"]["name"] == "ipam-vendor")
    assert pdb["spec"]["selector"]["matchLabels"] == vendor["spec"]["selector"]["matchLabels"]
    for service in by_kind["Service"]:
        target = next(d for d in by_kind["Deployment"] if d["metadata"]["name"] == service["metadata"]["name"])
        assert service["spec"]["selector"] == target["spec"]["selector"]["matchLabels"]
    account = by_kind["ServiceAccount"][0]["metadata"]["annotations"]
    assert "azure.workload.identity/client-id" in account and "eks.amazonaws.com/role-arn" in account


def test_every_command_line_is_one_the_executables_accept():
    """Each container's args, checked by the executable's own parser (`--help` after them prints the usage of
    exactly that subcommand, and fails on an unknown option or subcommand)."""
    bin_dir = os.environ.get("IPAM_BIN_DIR") or os.path.join(ROOT, ".build", "debug")
    for name, workload, spec in pod_specs():
        for container in spec["containers"]:
            program, *arguments = container["args"]
            options = [a for a in arguments if a.startswith("--")]
            subcommands = arguments[:next((i for i, a in enumerate(arguments) if a.startswith("--")), len(arguments))]
            usage = subprocess.run([os.path.join(bin_dir, program), *subcommands, "--help"], capture_output=True,
                                   text=True, timeout=60)
            assert usage.returncode == 0, f"{workload}: {program} {' '.join(subcommands)}: {usage.stderr}"
            for option in options:
                assert re.search(re.escape(option) + r"\b", usage.stdout), f"{workload}: {program} has no {option}"
