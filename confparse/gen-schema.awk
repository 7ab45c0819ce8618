# gen-schema.awk - compile confparse/settings.tsv into C: with
# -v mode=header the typed settings structs (build/gen/settings-structs.h),
# otherwise the schema tables (build/gen/settings-schema.c). One row per
# setting; see settings.tsv and confparse/README.md.
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
# C field name of a key: C keywords get a trailing underscore.
function field(key) {
	if (key == "auto" || key == "default" || key == "register")
		return key "_"
	return key
}
function c_decl_type(t) {
	if (t == "bool") return "bool "
	if (t == "uint" || t == "oct" || t == "time" || t == "msecs" || \
	    t == "port")
		return "unsigned int "
	if (t == "size") return "uint64_t "
	return "const char *"
}
function emit_header(    i, n, t, sname) {
	print "/* Generated from confparse/settings.tsv by gen-schema.awk:"
	print " * the typed settings every module reads (see config-bind.h). */"
	print "#ifndef ROOST_SETTINGS_STRUCTS_H"
	print "#define ROOST_SETTINGS_STRUCTS_H"
	print ""
	print "#include <stdbool.h>"
	print "#include <stdint.h>"
	print ""
	for (i = 0; i < ninfo; i++)
		printf "struct settings_%s;\n", cname(info_name[i])
	for (i = 0; i < ninfo; i++) {
		printf "\nstruct settings_%s {\n", cname(info_name[i])
		for (n = 0; n < info_rows[i]; n++) {
			t = row_type[i, n]
			if (t ~ /^list:/) {
				sname = cname(substr(t, 6))
				printf "\tstruct settings_%s **%s;\n", sname, \
					field(row_key[i, n])
				printf "\tunsigned int %s_count;\n", \
					row_key[i, n]
			} else if (t == "strlist") {
				printf "\t/* key, value, key, value ... */\n"
				printf "\tconst char *const *%s;\n", \
					field(row_key[i, n])
				printf "\tunsigned int %s_count; /* pairs */\n", \
					row_key[i, n]
			} else {
				printf "\t%s%s;\n", c_decl_type(t), field(row_key[i, n])
			}
		}
		print "};"
	}
	print ""
	print "#endif"
}
END {
	if (mode == "header") {
		emit_header()
		exit
	}
	print "/* Generated from confparse/settings.tsv by gen-schema.awk. */"
	print "#include <stddef.h>"
	print "#include \"settings-schema.h\""
	print "#include \"settings-structs.h\""
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
		# config-bind.c finds a list's count right after its pointer
		for (n = 0; n < info_rows[i]; n++) {
			if (row_type[i, n] !~ /^list:/ && row_type[i, n] != "strlist")
				continue
			printf "_Static_assert(offsetof(struct settings_%s, %s_count) == ", \
				cname(info_name[i]), row_key[i, n]
			printf "offsetof(struct settings_%s, %s) + sizeof(void *), ", \
				cname(info_name[i]), field(row_key[i, n])
			printf "\"count follows pointer\");\n"
		}
		printf "static const size_t offsets_%s[] = {\n", cname(info_name[i])
		for (n = 0; n < info_rows[i]; n++) {
			printf "\toffsetof(struct settings_%s, %s),\n", \
				cname(info_name[i]), field(row_key[i, n])
		}
		print "};"
	}
	print ""
	print "const struct setting_info setting_infos[INFO_COUNT] = {"
	for (i = 0; i < ninfo; i++) {
		printf "\t[INFO_%s] = { %s, defs_%s, %d, %d,\n", \
			toupper(cname(info_name[i])), \
			cstr(info_name[i]), cname(info_name[i]), \
			info_rows[i], unique[i]
		printf "\t\tsizeof(struct settings_%s), offsets_%s },\n", \
			cname(info_name[i]), cname(info_name[i])
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
