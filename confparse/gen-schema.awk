# gen-schema.awk - compile confparse/settings.tsv into C tables
# (build/gen/settings-schema.c). One row per setting; see settings.tsv.
BEGIN {
	FS = "\t"
	ninfo = 0
	ninst = 0
}
function cstr(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\"
		out = out c
	}
	return "\"" out "\""
}
function cname(s) {
	gsub(/-/, "_", s)
	return s
}
function info_id(name) {
	if (!(name in info_idx)) {
		info_idx[name] = ninfo
		info_name[ninfo] = name
		info_rows[ninfo] = 0
		ninfo++
	}
	return info_idx[name]
}
/^#/ || /^$/ { next }
$1 == "@inst" || $1 == "@set" {
	inst_kind[ninst] = $1
	inst_path[ninst] = $2
	inst_value[ninst] = $4
	ninst++
	next
}
{
	id = info_id($1)
	n = info_rows[id]++
	row_key[id, n] = $2
	row_type[id, n] = $3
	row_default[id, n] = $4
	row_flags[id, n] = $5
}
END {
	print "/* Generated from confparse/settings.tsv by gen-schema.awk. */"
	print "#include \"settings-schema.h\""
	print ""
	for (i = 0; i < ninfo; i++) {
		unique[i] = -1
		printf "static const struct setting_def defs_%s[] = {\n", \
			cname(info_name[i])
		for (n = 0; n < info_rows[i]; n++) {
			t = row_type[i, n]
			enumv = "NULL"
			list = "-1"
			if (t ~ /^enum:/) {
				enumv = cstr(substr(t, 6))
				ctype = "SET_ENUM"
			} else if (t ~ /^list:/) {
				list = "INFO_" toupper(cname(substr(t, 6)))
				ctype = "SET_DEFLIST"
			} else {
				ctype = "SET_" toupper(t)
			}
			flags = "0"
			if (row_flags[i, n] ~ /key/) {
				flags = flags "|SET_FLAG_KEY"
				unique[i] = n
			}
			if (row_flags[i, n] ~ /hidden/)
				flags = flags "|SET_FLAG_HIDDEN"
			if (row_flags[i, n] ~ /auth/)
				flags = flags "|SET_FLAG_AUTH"
			printf "\t{ %s, %s, %s, %s, %s, %s },\n", \
				cstr(row_key[i, n]), ctype, \
				cstr(row_default[i, n]), enumv, list, flags
		}
		print "};"
	}
	print ""
	print "const struct setting_info setting_infos[INFO_COUNT] = {"
	for (i = 0; i < ninfo; i++) {
		printf "\t[INFO_%s] = { %s, defs_%s, %d, %d },\n", \
			toupper(cname(info_name[i])), \
			cstr(info_name[i]), cname(info_name[i]), \
			info_rows[i], unique[i]
	}
	print "};"
	print ""
	print "const struct setting_instance setting_default_instances[] = {"
	for (i = 0; i < ninst; i++) {
		printf "\t{ %s, %s, %s },\n", \
			inst_kind[i] == "@inst" ? "true" : "false", \
			cstr(inst_path[i]), cstr(inst_value[i])
	}
	print "\t{ false, NULL, NULL }"
	print "};"
}
