/* The subset of Linux errno values the kernel returns (as -E...). */
#ifndef GUEST_ERRNO_H
#define GUEST_ERRNO_H

#define ENOENT		2
#define EIO		5
#define EAGAIN		11
#define E2BIG		7
#define ENOMEM		12
#define EFAULT		14
#define EBUSY		16
#define ENODEV		19
#define EINVAL		22
#define ERANGE		34
#define ENOSYS		38
#define ENOSPC		28
#define ETIMEDOUT	110

#endif
