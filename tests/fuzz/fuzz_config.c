// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * libFuzzer target: the whole config validator on hostile YAML. A config is
 * either accepted or refused with a message; nothing may crash or leak.
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FG_CONF_ERR_MAX];
	struct fg_conf conf;

	if (!config_parse("fuzz.yaml", (const char *)data, size, &conf, err, sizeof(err)))
		config_free(&conf);
	return 0;
}
