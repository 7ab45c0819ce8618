/* passdb-pam.c - passdb pam: "args = [session=yes] [setcred=yes]
 * [failure_show_msg=yes] [max_requests=N] [cache_key=K] [service]".
 * A PAM conversation that answers the password prompt, then account
 * checks (and a session opened and closed if asked), as Dovecot 2.3 does.
 * Blocking: runs in an auth worker. */
#include "auth-db-private.h"

#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <sys/stat.h>

#define PAM_DRIVER "pam"
#define PAM_DEFAULT_SERVICE "dovecot"
#define PAM_DEFAULT_MAX_REQUESTS 100

struct pam_passdb_module {
	struct passdb_module module;
	const char *service_name;	/* a % template */
	unsigned int requests_left;	/* 0: unlimited */
	bool pam_session, pam_setcred, failure_show_msg;
};

struct pam_conv_context {
	struct auth_lookup *lookup;
	const char *password;
	bool failure_show_msg;
	/* the password prompt, shown on failure with failure_show_msg */
	char *failure_msg;
};

static int pam_create(pool_t pool, const char *args,
		      struct passdb_module **module_r, const char **error_r)
{
	struct pam_passdb_module *module =
		p_new(pool, struct pam_passdb_module, 1);
	const char *const *words = auth_args_split(pool, args);

	module->module.driver = &passdb_driver_pam;
	module->module.args = p_strdup(pool, args);
	/* we cache the plaintext the mechanism gave */
	module->module.default_pass_scheme = "PLAIN";
	module->module.blocking = true;
	module->service_name = PAM_DEFAULT_SERVICE;
	module->requests_left = PAM_DEFAULT_MAX_REQUESTS;
	for (unsigned int i = 0; words[i] != NULL; i++) {
		const char *w = words[i], *value;

		if (strcmp(w, "-session") == 0 ||
		    strcmp(w, "session=yes") == 0)
			module->pam_session = true;
		else if (strcmp(w, "setcred=yes") == 0)
			module->pam_setcred = true;
		else if (str_begins(w, "cache_key=", &value))
			module->module.cache_key = value;
		else if (strcmp(w, "blocking=yes") == 0) {
			/* always blocking; accepted for old configs */
		} else if (strcmp(w, "failure_show_msg=yes") == 0)
			module->failure_show_msg = true;
		else if (strcmp(w, "*") == 0) {
			/* old way to say "the service name" */
			module->service_name = "%Ls";
		} else if (str_begins(w, "max_requests=", &value)) {
			char *end;
			unsigned long n;

			errno = 0;
			n = strtoul(value, &end, 10);
			if (*value == '\0' || *end != '\0' || errno != 0 ||
			    n > UINT32_MAX) {
				/* Dovecot logs and goes on */
				i_error("pam: Invalid requests_left value: %s",
					value);
			} else {
				module->requests_left = (unsigned int)n;
			}
		} else if (words[i + 1] == NULL) {
			module->service_name = w;
		} else {
			*error_r = p_strdup_printf(pool, "Unknown setting: %s",
						   w);
			return -1;
		}
	}
	*module_r = &module->module;
	return 0;
}

static void pam_free_responses(struct pam_response *resp, int count)
{
	for (int i = 0; i < count; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/* Answer PAM's prompts: the user name for an echoed prompt, the password
 * for a hidden one; messages need no answer. */
static int pam_userpass_conv(int num_msg, const struct pam_message **msg,
			     struct pam_response **resp_r, void *appdata_ptr)
{
	struct pam_conv_context *ctx = appdata_ptr;
	struct pam_response *resp;

	*resp_r = NULL;
	if (num_msg <= 0)
		return PAM_CONV_ERR;
	resp = calloc((size_t)num_msg, sizeof(*resp));
	if (resp == NULL)
		i_fatal_status(EXIT_TEMPFAIL, "Out of memory");
	for (int i = 0; i < num_msg; i++) {
		const char *text = msg[i]->msg == NULL ? "" : msg[i]->msg;
		const char *answer;

		auth_lookup_log_debug(ctx->lookup, PAM_DRIVER,
				      "#%d/%d style=%d msg=%s", i + 1, num_msg,
				      msg[i]->msg_style, text);
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_ON:
			/* the user, if PAM didn't take it from pam_start */
			answer = ctx->lookup->user == NULL ? "" :
				ctx->lookup->user;
			break;
		case PAM_PROMPT_ECHO_OFF:
			if (ctx->failure_show_msg) {
				free(ctx->failure_msg);
				ctx->failure_msg = i_strdup(text);
			}
			answer = ctx->password;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			answer = NULL;
			break;
		default:
			pam_free_responses(resp, i);
			return PAM_CONV_ERR;
		}
		resp[i].resp_retcode = PAM_SUCCESS;
		if (answer != NULL) {
			resp[i].resp = strdup(answer);
			if (resp[i].resp == NULL)
				i_fatal_status(EXIT_TEMPFAIL, "Out of memory");
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
}

/* The service file PAM would read, when it is missing: the likely cause
 * of a failure, worth an error line. Checked once per process. Under
 * pam_wrapper (tests) its service directory is the one PAM reads. */
static const char *pam_get_missing_service_file_path(const char *service)
{
	static bool service_checked = false;
	const char *dir = "/etc/pam.d";
	const char *wrapper_dir = getenv("PAM_WRAPPER_SERVICE_DIR");
	static char path[1024];
	struct stat st;

	if (service_checked)
		return NULL;
	service_checked = true;
	if (getenv("PAM_WRAPPER") != NULL && wrapper_dir != NULL)
		dir = wrapper_dir;
	snprintf(path, sizeof(path), "%s/%s", dir, service);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		/* before blaming it, make sure the system uses pam.d */
		if (stat(dir, &st) == 0)
			return path;
	}
	return NULL;
}

static int pam_try_auth(struct pam_passdb_module *module,
			struct auth_lookup *lookup, pam_handle_t *pamh,
			const char *service)
{
	const void *item;
	const char *path;
	int status;

	status = pam_authenticate(pamh, 0);
	if (status != PAM_SUCCESS) {
		const char *str = status == PAM_USER_UNKNOWN ? "unknown user" :
			p_strdup_printf(lookup->pool,
					"pam_authenticate() failed: %s",
					pam_strerror(pamh, status));

		path = pam_get_missing_service_file_path(service);
		if (path != NULL) {
			/* probably the admin's mistake: an error */
			auth_lookup_log_error(lookup, PAM_DRIVER,
					      "%s (%s missing?)", str, path);
		} else if (status == PAM_AUTH_ERR) {
			auth_lookup_set_reason(lookup,
					       "%s (Password mismatch?)", str);
		} else {
			lookup->log_reason = str;
		}
		return status;
	}
	if (module->pam_setcred &&
	    (status = pam_setcred(pamh, PAM_ESTABLISH_CRED)) != PAM_SUCCESS) {
		auth_lookup_log_error(lookup, PAM_DRIVER,
				      "pam_setcred() failed: %s",
				      pam_strerror(pamh, status));
		return status;
	}
	if ((status = pam_acct_mgmt(pamh, 0)) != PAM_SUCCESS) {
		auth_lookup_log_error(lookup, PAM_DRIVER,
				      "pam_acct_mgmt() failed: %s",
				      pam_strerror(pamh, status));
		return status;
	}
	if (module->pam_session) {
		if ((status = pam_open_session(pamh, 0)) != PAM_SUCCESS) {
			auth_lookup_log_error(lookup, PAM_DRIVER,
					      "pam_open_session() failed: %s",
					      pam_strerror(pamh, status));
			return status;
		}
		if ((status = pam_close_session(pamh, 0)) != PAM_SUCCESS) {
			auth_lookup_log_error(lookup, PAM_DRIVER,
					      "pam_close_session() failed: %s",
					      pam_strerror(pamh, status));
			return status;
		}
	}
	status = pam_get_item(pamh, PAM_USER, &item);
	if (status != PAM_SUCCESS) {
		auth_lookup_log_error(lookup, PAM_DRIVER,
				      "pam_get_item(PAM_USER) failed: %s",
				      pam_strerror(pamh, status));
		return status;
	}
	if (item != NULL)
		auth_fields_set(lookup->extra_fields, "user", item);
	return PAM_SUCCESS;
}

static enum passdb_result pam_result(int status)
{
	switch (status) {
	case PAM_SUCCESS:
		return PASSDB_RESULT_OK;
	case PAM_USER_UNKNOWN:
		return PASSDB_RESULT_USER_UNKNOWN;
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_ACCT_EXPIRED:
		return PASSDB_RESULT_PASS_EXPIRED;
	default:
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
}

static enum passdb_result pam_verify_call(struct pam_passdb_module *module,
					  struct auth_lookup *lookup,
					  const char *service,
					  const char *password)
{
	struct pam_conv_context ctx;
	struct pam_conv conv;
	enum passdb_result result;
	pam_handle_t *pamh = NULL;
	const char *user = lookup->user == NULL ? "" : lookup->user;
	int status, status2;

	memset(&ctx, 0, sizeof(ctx));
	ctx.lookup = lookup;
	ctx.password = password;
	ctx.failure_show_msg = module->failure_show_msg;
	conv.conv = pam_userpass_conv;
	conv.appdata_ptr = &ctx;

	status = pam_start(service, user, &conv, &pamh);
	if (status != PAM_SUCCESS) {
		auth_lookup_log_error(lookup, PAM_DRIVER,
				      "pam_start() failed: %s",
				      pam_strerror(pamh, status));
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	/* these shouldn't fail, and it doesn't matter much if they do */
	if (lookup->remote_ip != NULL && *lookup->remote_ip != '\0')
		(void)pam_set_item(pamh, PAM_RHOST, lookup->remote_ip);
	(void)pam_set_item(pamh, PAM_RUSER, user);
	/* pam_access and the like want a TTY */
	(void)pam_set_item(pamh, PAM_TTY, "dovecot");

	status = pam_try_auth(module, lookup, pamh, service);
	if ((status2 = pam_end(pamh, status)) != PAM_SUCCESS) {
		auth_lookup_log_error(lookup, PAM_DRIVER,
				      "pam_end() failed: %s",
				      pam_strerror(pamh, status2));
		free(ctx.failure_msg);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	result = pam_result(status);
	if (result != PASSDB_RESULT_OK && ctx.failure_msg != NULL)
		auth_fields_set(lookup->extra_fields, "reason",
				ctx.failure_msg);
	free(ctx.failure_msg);
	return result;
}

static enum passdb_result pam_verify_plain(struct passdb_module *_module,
					   struct auth_lookup *lookup,
					   const char *password)
{
	struct pam_passdb_module *module = (struct pam_passdb_module *)_module;
	const char *service, *error;

	if (module->requests_left > 0) {
		/* PAM modules leak: let the worker start afresh */
		if (--module->requests_left == 0)
			module->module.restart_worker = true;
	}
	if (auth_lookup_var_expand(lookup, module->service_name, &service,
				   &error) < 0) {
		auth_lookup_log_debug(lookup, PAM_DRIVER,
				      "Failed to expand service %s: %s",
				      module->service_name, error);
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	auth_lookup_log_debug(lookup, PAM_DRIVER, "lookup service=%s",
			      service);
	return pam_verify_call(module, lookup, service, password);
}

const struct passdb_driver passdb_driver_pam = {
	.name = "pam",
	.blocking = true,
	.create = pam_create,
	.verify_plain = pam_verify_plain,
};
