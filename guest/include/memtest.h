/* memtest: a RAM pattern written by one CPU, checked by another (memtest.c). */
#ifndef GUEST_MEMTEST_H
#define GUEST_MEMTEST_H

void memtest_cmd(int argc, char **argv);

#endif
