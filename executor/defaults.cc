#include "executor/defaults.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>

namespace kiln::executor::defaults {

namespace {

const NamespaceInfo k_namespace_table[] = {
    {CLONE_NEWNS, "mount"},
    {CLONE_NEWPID, "pid"},
    {CLONE_NEWIPC, "ipc"},
    {CLONE_NEWUTS, "uts"},
};

const int k_capability_table[] = {
    CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,      CAP_MKNOD,
    CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,           CAP_SETFCAP,     CAP_SETPCAP,
    CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,     CAP_AUDIT_WRITE,
};

const char* const k_masked_table[] = {
    "/proc/asound",        "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
    "/proc/keys",          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug",   "/proc/scsi",        "/sys/firmware",    "/sys/devices/virtual/powercap",
};

const char* const k_readonly_table[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

const char* const k_device_table[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

const DevSymlink k_dev_symlink_table[] = {
    {"fd", "/proc/self/fd"},         {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},   {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

// ---- seccomp ---------------------------------------------------------------

// Allowed unconditionally (Docker's first, largest group, plus ptrace and
// process_vm_* which Docker allows on kernels >= 4.8).
const char* const k_allow[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "capget", "capset",
    "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown",
    "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
    "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "futex", "futex_time64", "futex_waitv", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
    "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
    "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
    "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    // Docker: allowed on kernels >= 4.8 (kiln needs >= 5.11 anyway).
    "process_vm_readv", "process_vm_writev", "ptrace",
#if defined(__x86_64__) || defined(__i386__)
    "arch_prctl", "modify_ldt",
#endif
#if defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
    "set_tls",
#endif
#if defined(__riscv)
    "riscv_flush_icache",
#endif
};

const char* const k_socket[] = {"socket"};
const SeccompArg k_socket_not_vsock[] = {{0, SeccompArg::Op::ne, 40, 0}};  // AF_VSOCK

const char* const k_personality[] = {"personality"};
// PER_LINUX, UNAME26, PER_LINUX32, UNAME26|PER_LINUX32, query (0xffffffff).
const SeccompArg k_personality_0[] = {{0, SeccompArg::Op::eq, 0x0, 0}};
const SeccompArg k_personality_8[] = {{0, SeccompArg::Op::eq, 0x8, 0}};
const SeccompArg k_personality_20000[] = {{0, SeccompArg::Op::eq, 0x20000, 0}};
const SeccompArg k_personality_20008[] = {{0, SeccompArg::Op::eq, 0x20008, 0}};
const SeccompArg k_personality_query[] = {{0, SeccompArg::Op::eq, 0xffffffff, 0}};

const char* const k_clone[] = {"clone"};
// Without CAP_SYS_ADMIN, clone may not create namespaces: CLONE_NEWNS|NEWUTS|
// NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP = 0x7E020000 must be clear.
#if defined(__s390x__) || defined(__s390__)
const SeccompArg k_clone_no_ns[] = {{1, SeccompArg::Op::masked_eq, 0x7E020000, 0}};
#else
const SeccompArg k_clone_no_ns[] = {{0, SeccompArg::Op::masked_eq, 0x7E020000, 0}};
#endif
// clone3's flags live in memory seccomp cannot inspect; ENOSYS makes glibc
// fall back to clone, which the rule above can check. EPERM would break
// every posix_spawn and pthread_create in RUN.
const char* const k_clone3[] = {"clone3"};

const char* const k_sys_admin[] = {
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
    "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
    "umount2", "unshare",
};
const char* const k_sys_boot[] = {"reboot"};
const char* const k_sys_chroot[] = {"chroot"};
const char* const k_sys_module[] = {"delete_module", "init_module", "finit_module"};
const char* const k_sys_pacct[] = {"acct"};
const char* const k_sys_ptrace[] = {"kcmp", "pidfd_getfd", "process_madvise"};
const char* const k_sys_rawio[] = {"iopl", "ioperm"};
const char* const k_sys_time[] = {"settimeofday", "stime", "clock_settime", "clock_settime64"};
const char* const k_sys_tty_config[] = {"vhangup"};
const char* const k_sys_nice[] = {"get_mempolicy", "mbind", "set_mempolicy",
                                  "set_mempolicy_home_node"};
const char* const k_syslog[] = {"syslog"};
const char* const k_bpf[] = {"bpf"};
const char* const k_perfmon[] = {"perf_event_open"};
const char* const k_dac_read_search[] = {"open_by_handle_at"};

constexpr int k_none = -1;
using A = SeccompAction;

const SeccompRule k_rule_table[] = {
    {k_allow, A::allow, k_none, k_none, {}},
    {k_socket, A::allow, k_none, k_none, k_socket_not_vsock},
    {k_personality, A::allow, k_none, k_none, k_personality_0},
    {k_personality, A::allow, k_none, k_none, k_personality_8},
    {k_personality, A::allow, k_none, k_none, k_personality_20000},
    {k_personality, A::allow, k_none, k_none, k_personality_20008},
    {k_personality, A::allow, k_none, k_none, k_personality_query},
    {k_clone, A::allow, k_none, CAP_SYS_ADMIN, k_clone_no_ns},
    {k_clone3, A::errno_enosys, k_none, CAP_SYS_ADMIN, {}},
    {k_sys_admin, A::allow, CAP_SYS_ADMIN, k_none, {}},
    {k_sys_boot, A::allow, CAP_SYS_BOOT, k_none, {}},
    {k_sys_chroot, A::allow, CAP_SYS_CHROOT, k_none, {}},
    {k_sys_module, A::allow, CAP_SYS_MODULE, k_none, {}},
    {k_sys_pacct, A::allow, CAP_SYS_PACCT, k_none, {}},
    {k_sys_ptrace, A::allow, CAP_SYS_PTRACE, k_none, {}},
    {k_sys_rawio, A::allow, CAP_SYS_RAWIO, k_none, {}},
    {k_sys_time, A::allow, CAP_SYS_TIME, k_none, {}},
    {k_sys_tty_config, A::allow, CAP_SYS_TTY_CONFIG, k_none, {}},
    {k_sys_nice, A::allow, CAP_SYS_NICE, k_none, {}},
    {k_syslog, A::allow, CAP_SYSLOG, k_none, {}},
    {k_bpf, A::allow, CAP_BPF, k_none, {}},
    {k_perfmon, A::allow, CAP_PERFMON, k_none, {}},
    {k_dac_read_search, A::allow, CAP_DAC_READ_SEARCH, k_none, {}},
};

const RlimitName k_rlimit_table[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},       {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
    {"as", RLIMIT_AS},
};

}  // namespace

const std::span<const NamespaceInfo> k_namespaces{k_namespace_table};
const std::span<const int> k_capabilities{k_capability_table};
const std::span<const char* const> k_masked_paths{k_masked_table};
const std::span<const char* const> k_readonly_paths{k_readonly_table};
const std::span<const char* const> k_devices{k_device_table};
const std::span<const DevSymlink> k_dev_symlinks{k_dev_symlink_table};
const std::span<const SeccompRule> k_seccomp_rules{k_rule_table};
const std::span<const RlimitName> k_rlimit_names{k_rlimit_table};

}  // namespace kiln::executor::defaults
