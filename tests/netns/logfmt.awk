# logfmt.awk — a strict check of floodgated's logfmt lines (awk -f logfmt.awk FILE...).
#
# Every line must be key=value pairs separated by single spaces, starting with
#   ts=YYYY-MM-DDTHH:MM:SS.mmmZ level=error|warn|info|debug msg=...
# keys [A-Za-z0-9_.-]+ and never repeated; a value is either bare (no space, '=',
# '"', '\' or control byte, not empty) or quoted ("..." with only \" \\ \n \r \t
# \uXXXX escapes and no raw control byte). Prints each bad line with why; exits 1
# if there was one, 2 if there were no lines at all.
BEGIN {
	ctl = ""
	for (i = 1; i < 32; i++)
		ctl = ctl sprintf("%c", i)
	ctl = ctl sprintf("%c", 127)
	bad = 0
	lines = 0
}

function fail(why) {
	printf "line %d: %s: %s\n", FNR, why, $0
	bad++
	return 0
}

function has_ctl(s,    k) {
	for (k = 1; k <= length(ctl); k++)
		if (index(s, substr(ctl, k, 1)))
			return 1
	return 0
}

# check(line): parse it, fill keys[] in order; returns the number of pairs or -1.
function check(s,    n, p, len, c, key, val, q) {
	n = 0
	p = 1
	len = length(s)
	delete seen
	while (p <= len) {
		if (n > 0) {
			if (substr(s, p, 1) != " ")
				return fail("pairs must be separated by one space")
			p++
		}
		key = ""
		while (p <= len && substr(s, p, 1) ~ /[A-Za-z0-9_.-]/) {
			key = key substr(s, p, 1)
			p++
		}
		if (key == "")
			return fail("empty or bad key at column " p)
		if (substr(s, p, 1) != "=")
			return fail("key " key " has no '='")
		p++
		if (key in seen)
			return fail("key " key " repeated")
		seen[key] = 1
		val = ""
		if (substr(s, p, 1) == "\"") {
			p++
			q = 0
			while (p <= len) {
				c = substr(s, p, 1)
				if (c == "\"") {
					q = 1
					p++
					break
				}
				if (c == "\\") {
					c = substr(s, p + 1, 1)
					if (c == "u") {
						if (substr(s, p + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
							return fail("bad \\u escape in " key)
						val = val "?"
						p += 6
						continue
					}
					if (c !~ /^["\\nrt]$/)
						return fail("bad escape \\" c " in " key)
					val = val c
					p += 2
					continue
				}
				val = val c
				p++
			}
			if (!q)
				return fail("unterminated quote in " key)
			if (p <= len && substr(s, p, 1) != " ")
				return fail("text after the closing quote of " key)
		} else {
			while (p <= len && substr(s, p, 1) != " ") {
				c = substr(s, p, 1)
				if (c == "=" || c == "\"" || c == "\\")
					return fail("bare value of " key " holds " c)
				val = val c
				p++
			}
			if (val == "")
				return fail("empty bare value of " key)
		}
		n++
		keys[n] = key
		vals[n] = val
	}
	return n
}

{
	lines++
	if (has_ctl($0)) {
		fail("raw control byte")
		next
	}
	n = check($0)
	if (n < 0 || n == 0)
		next
	if (n < 3 || keys[1] != "ts" || keys[2] != "level" || keys[3] != "msg") {
		fail("does not start with ts= level= msg=")
		next
	}
	if (vals[1] !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]Z$/)
		fail("ts is not YYYY-MM-DDTHH:MM:SS.mmmZ")
	else if (vals[2] !~ /^(error|warn|info|debug)$/)
		fail("unknown level " vals[2])
	else if (vals[3] == "")
		fail("empty msg")
}

END {
	if (!lines) {
		print "no lines"
		exit 2
	}
	exit bad ? 1 : 0
}
