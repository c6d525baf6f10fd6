// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "testobj.h"

#define SMALL_MAP 8192 /* entries of the hash maps while testing */

int testobj_open(struct testobj *t)
{
	struct bpf_map *map;
	uint8_t frame[10] = { 0 };
	__u32 ret;
	int err;

	memset(t, 0, sizeof(*t));
	t->skel = floodgate_bpf__open();
	if (!t->skel)
		return -errno;
	/* Nothing under /sys/fs/bpf: the maps are LIBBPF_PIN_BY_NAME. */
	bpf_object__for_each_map(map, t->skel->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	bpf_map__set_max_entries(t->skel->maps.src_state, SMALL_MAP);
	bpf_map__set_max_entries(t->skel->maps.prefix_state, SMALL_MAP);
	bpf_map__set_max_entries(t->skel->maps.udp_flows, SMALL_MAP);
	bpf_map__set_max_entries(t->skel->maps.verified, SMALL_MAP);
	bpf_map__set_max_entries(t->skel->maps.allow_lpm, 1024);
	bpf_map__set_max_entries(t->skel->maps.deny_lpm, 1024);
	bpf_map__set_max_entries(t->skel->maps.bans, 1024);
	bpf_map__set_max_entries(t->skel->maps.bans_addr, 1024);
	bpf_map__set_max_entries(t->skel->maps.bans_pfx, 1024);
	err = floodgate_bpf__load(t->skel);
	if (err)
		return err;
	xdpmaps_from_skel(&t->maps, t->skel);
	t->xdp_fd = bpf_program__fd(t->skel->progs.fg_xdp);
	t->tc_fd = bpf_program__fd(t->skel->progs.fg_tc_egress);
	t->short_frames_ok = testobj_run(t->xdp_fd, true, frame, sizeof(frame), &ret) == 0;
	return 0;
}

void testobj_close(struct testobj *t)
{
	floodgate_bpf__destroy(t->skel);
	t->skel = NULL;
}

int testobj_run(int prog_fd, bool xdp, const uint8_t *frame, int len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	uint8_t buf[TESTOBJ_MAX_FRAME + 32] = { 0 };
	struct xdp_md md = { 0 };
	int meta = 0;

	if (len < 0 || len > TESTOBJ_MAX_FRAME)
		return -EINVAL;
	if (len < 14) {
		if (!xdp)
			return -EINVAL;
		meta = (14 - len + 3) & ~3;
		md.data = (__u32)meta;
		md.data_end = (__u32)(meta + len);
		opts.ctx_in = &md;
		opts.ctx_size_in = sizeof(md);
	}
	memcpy(buf + meta, frame, (size_t)len);
	opts.data_in = buf;
	opts.data_size_in = (__u32)(meta + len);
	opts.repeat = 1;
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

__u32 testobj_verified_insns(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.verified_insns;
}
