/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Default paths, defined once for floodgated, floodctl and the tests. The
 * docs (README, docs/config.md, the man pages, packaging/) spell them out
 * and must agree with these.
 */
#ifndef FLOODGATE_PATHS_H
#define FLOODGATE_PATHS_H

/* bpffs directory of the pinned maps and XDP links (--pin-dir, floodctl -p). */
#define FG_DEFAULT_PIN_DIR "/sys/fs/bpf/floodgate"

/* The agent's RESP socket (socket.path, --socket, floodctl -s). */
#define FG_DEFAULT_SOCKET "/run/floodgate/floodgate.sock"

/* floodgated's config file (-c); make install puts the example there. */
#define FG_DEFAULT_CONFIG "/etc/floodgate/floodgate.yaml"

#endif /* FLOODGATE_PATHS_H */
