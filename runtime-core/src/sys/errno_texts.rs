//! The errno texts hull prints: Go's `syscall.Errno` strings (glibc's `strerror` texts with the
//! first letter lowered unless the word is an acronym), as runc prints them. A table, not the C
//! library's `strerror`: the static binary is linked against musl, whose texts differ ("I/O
//! error", "Resource busy").

/// Text of errno `n` (index), `None` where Linux defines no errno.
pub(super) const TEXTS: [Option<&str>; 134] = [
    Some("success"),                                           // 0
    Some("operation not permitted"),                           // 1
    Some("no such file or directory"),                         // 2
    Some("no such process"),                                   // 3
    Some("interrupted system call"),                           // 4
    Some("input/output error"),                                // 5
    Some("no such device or address"),                         // 6
    Some("argument list too long"),                            // 7
    Some("exec format error"),                                 // 8
    Some("bad file descriptor"),                               // 9
    Some("no child processes"),                                // 10
    Some("resource temporarily unavailable"),                  // 11
    Some("cannot allocate memory"),                            // 12
    Some("permission denied"),                                 // 13
    Some("bad address"),                                       // 14
    Some("block device required"),                             // 15
    Some("device or resource busy"),                           // 16
    Some("file exists"),                                       // 17
    Some("invalid cross-device link"),                         // 18
    Some("no such device"),                                    // 19
    Some("not a directory"),                                   // 20
    Some("is a directory"),                                    // 21
    Some("invalid argument"),                                  // 22
    Some("too many open files in system"),                     // 23
    Some("too many open files"),                               // 24
    Some("inappropriate ioctl for device"),                    // 25
    Some("text file busy"),                                    // 26
    Some("file too large"),                                    // 27
    Some("no space left on device"),                           // 28
    Some("illegal seek"),                                      // 29
    Some("read-only file system"),                             // 30
    Some("too many links"),                                    // 31
    Some("broken pipe"),                                       // 32
    Some("numerical argument out of domain"),                  // 33
    Some("numerical result out of range"),                     // 34
    Some("resource deadlock avoided"),                         // 35
    Some("file name too long"),                                // 36
    Some("no locks available"),                                // 37
    Some("function not implemented"),                          // 38
    Some("directory not empty"),                               // 39
    Some("too many levels of symbolic links"),                 // 40
    None,                                                      // 41
    Some("no message of desired type"),                        // 42
    Some("identifier removed"),                                // 43
    Some("channel number out of range"),                       // 44
    Some("level 2 not synchronized"),                          // 45
    Some("level 3 halted"),                                    // 46
    Some("level 3 reset"),                                     // 47
    Some("link number out of range"),                          // 48
    Some("protocol driver not attached"),                      // 49
    Some("no CSI structure available"),                        // 50
    Some("level 2 halted"),                                    // 51
    Some("invalid exchange"),                                  // 52
    Some("invalid request descriptor"),                        // 53
    Some("exchange full"),                                     // 54
    Some("no anode"),                                          // 55
    Some("invalid request code"),                              // 56
    Some("invalid slot"),                                      // 57
    None,                                                      // 58
    Some("bad font file format"),                              // 59
    Some("device not a stream"),                               // 60
    Some("no data available"),                                 // 61
    Some("timer expired"),                                     // 62
    Some("out of streams resources"),                          // 63
    Some("machine is not on the network"),                     // 64
    Some("package not installed"),                             // 65
    Some("object is remote"),                                  // 66
    Some("link has been severed"),                             // 67
    Some("advertise error"),                                   // 68
    Some("srmount error"),                                     // 69
    Some("communication error on send"),                       // 70
    Some("protocol error"),                                    // 71
    Some("multihop attempted"),                                // 72
    Some("RFS specific error"),                                // 73
    Some("bad message"),                                       // 74
    Some("value too large for defined data type"),             // 75
    Some("name not unique on network"),                        // 76
    Some("file descriptor in bad state"),                      // 77
    Some("remote address changed"),                            // 78
    Some("can not access a needed shared library"),            // 79
    Some("accessing a corrupted shared library"),              // 80
    Some(".lib section in a.out corrupted"),                   // 81
    Some("attempting to link in too many shared libraries"),   // 82
    Some("cannot exec a shared library directly"),             // 83
    Some("invalid or incomplete multibyte or wide character"), // 84
    Some("interrupted system call should be restarted"),       // 85
    Some("streams pipe error"),                                // 86
    Some("too many users"),                                    // 87
    Some("socket operation on non-socket"),                    // 88
    Some("destination address required"),                      // 89
    Some("message too long"),                                  // 90
    Some("protocol wrong type for socket"),                    // 91
    Some("protocol not available"),                            // 92
    Some("protocol not supported"),                            // 93
    Some("socket type not supported"),                         // 94
    Some("operation not supported"),                           // 95
    Some("protocol family not supported"),                     // 96
    Some("address family not supported by protocol"),          // 97
    Some("address already in use"),                            // 98
    Some("cannot assign requested address"),                   // 99
    Some("network is down"),                                   // 100
    Some("network is unreachable"),                            // 101
    Some("network dropped connection on reset"),               // 102
    Some("software caused connection abort"),                  // 103
    Some("connection reset by peer"),                          // 104
    Some("no buffer space available"),                         // 105
    Some("transport endpoint is already connected"),           // 106
    Some("transport endpoint is not connected"),               // 107
    Some("cannot send after transport endpoint shutdown"),     // 108
    Some("too many references: cannot splice"),                // 109
    Some("connection timed out"),                              // 110
    Some("connection refused"),                                // 111
    Some("host is down"),                                      // 112
    Some("no route to host"),                                  // 113
    Some("operation already in progress"),                     // 114
    Some("operation now in progress"),                         // 115
    Some("stale file handle"),                                 // 116
    Some("structure needs cleaning"),                          // 117
    Some("not a XENIX named type file"),                       // 118
    Some("no XENIX semaphores available"),                     // 119
    Some("is a named type file"),                              // 120
    Some("remote I/O error"),                                  // 121
    Some("disk quota exceeded"),                               // 122
    Some("no medium found"),                                   // 123
    Some("wrong medium type"),                                 // 124
    Some("operation canceled"),                                // 125
    Some("required key not available"),                        // 126
    Some("key has expired"),                                   // 127
    Some("key has been revoked"),                              // 128
    Some("key was rejected by service"),                       // 129
    Some("owner died"),                                        // 130
    Some("state not recoverable"),                             // 131
    Some("operation not possible due to RF-kill"),             // 132
    Some("memory page has hardware error"),                    // 133
];
