/* sock_client SOCKET MESSAGE: connects to a unix socket, sends MESSAGE,
 * prints the reply. Static, so it runs in the busybox test image (RUN
 * --mount=type=ssh tests; busybox's nc has no unix sockets). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sock_client SOCKET MESSAGE\n");
    return 2;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    perror("sock_client: connect");
    return 1;
  }
  if (write(fd, argv[2], strlen(argv[2])) < 0) {
    perror("sock_client: write");
    return 1;
  }
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    fwrite(buf, 1, (size_t)n, stdout);
  }
  return n < 0 ? 1 : 0;
}
