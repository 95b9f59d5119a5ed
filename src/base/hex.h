/* One hexadecimal digit's value, or -1 (UUIDs, gdb's packets). */
#ifndef SHRIKE_HEX_H
#define SHRIKE_HEX_H

static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
