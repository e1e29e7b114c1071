/* kiln_probe: a static program the executor tests run inside the sandbox
 * (STYLE.md T5, after crun's tests/init.c). It prints one JSON object about
 * its environment on stdout:
 *   ids (real/effective uid and gid, groups), /proc/self/status fields
 *   (capability masks, NoNewPrivs, Seccomp, Umask), uid_map/gid_map,
 *   hostname, cwd, open fds, visible pids, mount points, RLIMIT_NOFILE,
 *   argv, environ, and the errno of syscalls the sandbox must refuse.
 *
 * Modes:
 *   kiln_probe                  the JSON report
 *   kiln_probe connect PORT     try TCP 127.0.0.1:PORT; print {"connect": errno}
 *   kiln_probe exit N           exit with status N
 *   kiln_probe crash            die of SIGSEGV
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static void json_string(const char *s) {
  putchar('"');
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static void read_text(const char *path, char *buf, size_t size) {
  buf[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return;
  }
  ssize_t n = read(fd, buf, size - 1);
  buf[n > 0 ? n : 0] = '\0';
  close(fd);
}

/* Prints "Name": "value" for one line of /proc/self/status. */
static void status_field(const char *status, const char *name, int *first) {
  size_t len = strlen(name);
  for (const char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      const char *v = line + len + 1;
      while (*v == ' ' || *v == '\t') {
        ++v;
      }
      char value[128];
      size_t n = strcspn(v, "\n");
      if (n >= sizeof value) {
        n = sizeof value - 1;
      }
      memcpy(value, v, n);
      value[n] = '\0';
      printf("%s\"%s\": ", *first ? "" : ", ", name);
      json_string(value);
      *first = 0;
      return;
    }
  }
}

static void list_numeric_dir(const char *path, const char *key) {
  printf(", \"%s\": [", key);
  DIR *d = opendir(path);
  int first = 1;
  int self_fd = d ? dirfd(d) : -1;
  for (struct dirent *e; d && (e = readdir(d));) {
    char *end;
    long v = strtol(e->d_name, &end, 10);
    if (*end != '\0' || e->d_name[0] == '\0' || v == self_fd) {
      continue;
    }
    printf("%s%ld", first ? "" : ", ", v);
    first = 0;
  }
  if (d) {
    closedir(d);
  }
  printf("]");
}

static void mounts(void) {
  static char info[1 << 16];
  read_text("/proc/self/mountinfo", info, sizeof info);
  printf(", \"mounts\": [");
  int first = 1;
  for (char *line = info; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) {
      *next++ = '\0';
    }
    /* field 5 is the mount point, field 9 (after " - ") the fs type */
    char point[4096] = "", fstype[256] = "";
    sscanf(line, "%*s %*s %*s %*s %4095s", point);
    char *dash = strstr(line, " - ");
    if (dash) {
      sscanf(dash + 3, "%255s", fstype);
    }
    printf("%s{\"point\": ", first ? "" : ", ");
    json_string(point);
    printf(", \"type\": ");
    json_string(fstype);
    printf(", \"options\": ");
    char opts[1024] = "";
    sscanf(line, "%*s %*s %*s %*s %*s %1023s", opts);
    json_string(opts);
    printf("}");
    first = 0;
    line = next;
  }
  printf("]");
}

static int errno_of(long rc) { return rc == -1 ? errno : 0; }

static void syscalls(void) {
  printf(", \"syscalls\": {");
  printf("\"mount\": %d", errno_of(mount("none", "/tmp", "tmpfs", 0, NULL)));
  printf(", \"unshare_user\": %d", errno_of(unshare(CLONE_NEWUSER)));
  printf(", \"unshare_mount\": %d", errno_of(unshare(CLONE_NEWNS)));
  printf(", \"kexec_load\": %d", errno_of(syscall(SYS_kexec_load, 0, 0, NULL, 0)));
  printf(", \"init_module\": %d", errno_of(syscall(SYS_init_module, NULL, 0, "")));
  printf(", \"clone3\": %d", errno_of(syscall(SYS_clone3, NULL, 0)));
  printf(", \"chroot\": %d", errno_of(chroot("/")));
  printf("}");
}

static int report(int argc, char **argv) {
  static char status[8192], text[4096];
  gid_t groups[256];
  int ngroups = getgroups(256, groups);
  printf("{\"pid\": %d, \"ppid\": %d, \"uid\": %u, \"euid\": %u, \"gid\": %u, \"egid\": %u", getpid(), getppid(),
         getuid(), geteuid(), getgid(), getegid());
  printf(", \"groups\": [");
  for (int i = 0; i < ngroups; ++i) {
    printf("%s%u", i ? ", " : "", groups[i]);
  }
  printf("], \"status\": {");
  read_text("/proc/self/status", status, sizeof status);
  int first = 1;
  const char *fields[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Umask"};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) {
    status_field(status, fields[i], &first);
  }
  printf("}, \"uid_map\": ");
  read_text("/proc/self/uid_map", text, sizeof text);
  json_string(text);
  printf(", \"gid_map\": ");
  read_text("/proc/self/gid_map", text, sizeof text);
  json_string(text);
  gethostname(text, sizeof text);
  printf(", \"hostname\": ");
  json_string(text);
  printf(", \"cwd\": ");
  json_string(getcwd(text, sizeof text) ? text : "");
  list_numeric_dir("/proc/self/fd", "fds");
  list_numeric_dir("/proc", "pids");
  mounts();
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  printf(", \"nofile\": [%llu, %llu]", (unsigned long long)nofile.rlim_cur, (unsigned long long)nofile.rlim_max);
  printf(", \"argv\": [");
  for (int i = 0; i < argc; ++i) {
    if (i) {
      printf(", ");
    }
    json_string(argv[i]);
  }
  printf("], \"env\": [");
  for (char **e = environ; *e; ++e) {
    if (e != environ) {
      printf(", ");
    }
    json_string(*e);
  }
  printf("]");
  syscalls();
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "connect") == 0) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[2]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int err = fd < 0 ? errno : errno_of(connect(fd, (struct sockaddr *)&addr, sizeof addr));
    printf("{\"connect\": %d}\n", err);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "crash") == 0) {
    /* SIGSEGV from a fault: how a pid 1 can die of a signal. */
    volatile int *volatile nowhere = NULL;
    *nowhere = 0;
    return 1;
  }
  if (argc == 3 && strcmp(argv[1], "exit") == 0) {
    return atoi(argv[2]);
  }
  return report(argc, argv);
}
