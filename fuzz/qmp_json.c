/*
 * libFuzzer target: the control socket's input path: the JSON splitter fed
 * in pieces (as reads deliver them), then the parser on each value.
 */
#include <stdint.h>
#include <string.h>

#include "control/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_splitter s;
	const char *v;
	size_t len, step = size ? 1 + data[0] % 64 : 1;
	char err[256];

	json_splitter_init(&s, 1u << 16);
	for (size_t off = 0; off < size; off += step) {
		size_t n = size - off < step ? size - off : step;

		if (json_splitter_feed(&s, (const char *)data + off, n) < 0)
			break;
		while (json_splitter_next(&s, &v, &len)) {
			struct json_doc doc;

			if (json_parse(&doc, v, len, err, sizeof(err)) == 0)
				json_doc_free(&doc);
		}
	}
	json_splitter_free(&s);
	return 0;
}
