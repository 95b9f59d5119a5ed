/* A growing text buffer (reports, monitor output). */
#ifndef SHRIKE_STRBUF_H
#define SHRIKE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;                 /* NUL-terminated once anything was added */
	size_t len, cap;
	bool failed;               /* out of memory: the text is incomplete */
};

void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sb_str(const struct strbuf *sb);
void sb_free(struct strbuf *sb);

#endif
