/* The program the real-world scenario builds (tests/e2e/real). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  const char* greeting = getenv("GREETING");
  printf("%s from kiln, uid %d\n", greeting != NULL ? greeting : "hello", (int)getuid());
  return 0;
}
