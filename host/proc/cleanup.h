// cleanup.h: the processes and files a command of the host started, ended and
// removed at most once: at the end, or on SIGINT/SIGTERM/SIGHUP. Every
// registered process is sent SIGTERM (then SIGKILL after a grace period) and
// reaped, every registered path removed (files; empty directories). Signal-safe.
//
//   cleanup::install();              // once, before the first child
//   cleanup::add_pid(child);         // ... forget_pid(child) once reaped
//   cleanup::run();                  // at the end (or from the signal handler)
#pragma once

#include <sys/types.h>

#include <string>

namespace cowlab::live::cleanup {

void install();                    // installs the signal handlers (idempotent)
void add_pid(pid_t pid);
void forget_pid(pid_t pid);        // reaped by the caller
void add_path(const std::string& path);
void forget_path(const std::string& path);
void run();                        // kills, reaps and removes now

}  // namespace cowlab::live::cleanup
