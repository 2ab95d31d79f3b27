"""The Kubernetes "restricted" Pod Security Standard, as checks on a pod spec.

Transcribed from https://kubernetes.io/docs/concepts/security/pod-security-standards/
(the Baseline policy plus the Restricted policy): no Python package
implements it, and the admission controller needs a cluster. ``violations``
returns one line per broken control; tests/test_kubernetes.py shows each check
failing on a pod spec that breaks it.
"""

from __future__ import annotations

from collections.abc import Iterator

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip
SELINUX_TYPES = {None, "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
APPARMOR_TYPES = {None, "RuntimeDefault", "Localhost"}


def _containers(pod: dict) -> Iterator[tuple[str, dict]]:
    for kind in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(kind) or []:
            yield f"{kind}[{container.get('name')}]", container


def _security_contexts(pod: dict) -> Iterator[tuple[str, dict]]:
    yield "pod", pod.get("securityContext") or {}
    for where, container in _containers(pod):
        yield where, container.get("securityContext") or {}


def baseline(pod: dict) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            yield f"host namespaces: {field} must be false"
    for where, context in _security_contexts(pod):
        if context.get("windowsOptions", {}).get("hostProcess"):
            yield f"{where}: HostProcess containers are not allowed"
        if context.get("privileged"):
            yield f"{where}: privileged must be false"
        if (context.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
            yield f"{where}: seLinuxOptions.type is not an allowed type"
        if (context.get("seLinuxOptions") or {}).keys() & {"user", "role"}:
            yield f"{where}: seLinuxOptions.user and .role must not be set"
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            yield f"{where}: seccompProfile must not be Unconfined"
        if (context.get("appArmorProfile") or {}).get("type") not in APPARMOR_TYPES:
            yield f"{where}: appArmorProfile must be RuntimeDefault or Localhost"
    for where, container in _containers(pod):
        context = container.get("securityContext") or {}
        added = set((context.get("capabilities") or {}).get("add") or [])
        if added - BASELINE_CAPABILITIES:
            yield f"{where}: capabilities {sorted(added - BASELINE_CAPABILITIES)} may not be added"
        if context.get("procMount", "Default") != "Default":
            yield f"{where}: procMount must be Default"
        if any(port.get("hostPort") for port in container.get("ports") or []):
            yield f"{where}: hostPort must not be set"
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')}: hostPath volumes are not allowed"
    for sysctl in (pod.get("securityContext") or {}).get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            yield f"pod: sysctl {sysctl.get('name')} is not in the safe set"


def restricted(pod: dict) -> Iterator[str]:
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            yield f"volume {volume.get('name')}: type {sorted(kinds)} is not allowed"
    pod_context = pod.get("securityContext") or {}
    for where, context in _security_contexts(pod):
        if context.get("runAsNonRoot") is False:
            yield f"{where}: runAsNonRoot must not be false"
        if context.get("runAsUser") == 0:
            yield f"{where}: runAsUser must not be 0"
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type")
    for where, container in _containers(pod):
        context = container.get("securityContext") or {}
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"{where}: allowPrivilegeEscalation must be false"
        if not (pod_context.get("runAsNonRoot") or context.get("runAsNonRoot")):
            yield f"{where}: runAsNonRoot must be true, in the container or the pod"
        seccomp = (context.get("seccompProfile") or {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield f"{where}: seccompProfile must be RuntimeDefault or Localhost"
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield f"{where}: capabilities must drop ALL"
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            yield f"{where}: only NET_BIND_SERVICE may be added"


def violations(pod: dict) -> list[str]:
    """Every control of the restricted profile (which includes baseline) the pod breaks."""
    return [*baseline(pod), *restricted(pod)]
