/* store.c: sessions on disk, one JSONL file each.
 *
 * A session file lets a run be resumed (--resume ID|last, --continue) and
 * replayed (gemmash replay FILE).  Line 1 describes the session (id, model,
 * seed, temperature, working folder); then one line per message as it is
 * added (user, assistant with thought and tool calls, tool results), and a
 * "compaction" line that replaces the message list when the context was
 * compacted.  Files live in $XDG_STATE_HOME/gemmash/sessions (default
 * ~/.local/state/gemmash/sessions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include "agent_int.h"

/* Create every missing folder of path (mkdir -p). */
int ag_mkdirs(const char *path)
{
    char tmp[4096];
    if (strlen(path) >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    memcpy(tmp, path, strlen(path) + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* Where sessions and spilled outputs live (XDG_STATE_HOME, else ~/.local/state). */
int ag_state_dir(const ag_opts *o, char *out, size_t cap)
{
    if (o->state_dir) { snprintf(out, cap, "%s", o->state_dir); return 0; }
    const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
    if (x && *x) snprintf(out, cap, "%s/gemmash", x);
    else if (h && *h) snprintf(out, cap, "%s/.local/state/gemmash", h);
    else return -1;
    return 0;
}

/* The most recently written session file under the state folder (skip: a
 * path to pass over, the running session's own, or NULL), into out; -1 if
 * there is none.  --resume last and the shell's /resume both use it. */
int ag_newest_session(const ag_opts *o, const char *skip, char *out, size_t cap)
{
    char dir[3800], sdir[3900];
    out[0] = 0;
    if (ag_state_dir(o, dir, sizeof dir)) return -1;
    snprintf(sdir, sizeof sdir, "%s/sessions", dir);
    DIR *d = opendir(sdir);
    if (!d) return -1;
    struct dirent *de;
    time_t best = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 7 || strcmp(de->d_name + l - 6, ".jsonl")) continue;
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", sdir, de->d_name);
        if (skip && !strcmp(p, skip)) continue;
        if (stat(p, &st) == 0 && st.st_mtime >= best && strlen(p) < cap) { best = st.st_mtime; snprintf(out, cap, "%s", p); }
    }
    closedir(d);
    return out[0] ? 0 : -1;
}

/* Write one line and flush it, so a crash loses at most that line. */
static void put_line(ag_session *s, cJSON *obj)
{
    if (!s->store) { cJSON_Delete(obj); return; }
    char *t = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!t) return;
    if (fprintf(s->store, "%s\n", t) < 0 || fflush(s->store))
        fprintf(stderr, "gemmash: cannot write the session file %s: %s\n", s->path, strerror(errno));
    free(t);
}

/* Create the session file and write its first line (what replay needs). */
int ag_store_open(ag_session *s, char *err, size_t cap)
{
    if (s->o.no_session_file) return 0;
    char dir[3800];
    if (ag_state_dir(&s->o, dir, sizeof dir)) {
        snprintf(err, cap, "no state folder: set XDG_STATE_HOME or HOME, or pass --no-session");
        return -1;
    }
    char sdir[3900];
    snprintf(sdir, sizeof sdir, "%s/sessions", dir);
    if (ag_mkdirs(sdir)) {
        snprintf(err, cap, "cannot create the session folder %s: %s", sdir, strerror(errno));
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s/%s.jsonl", sdir, s->id);
    s->store = fopen(s->path, "a");
    if (!s->store) {
        snprintf(err, cap, "cannot open the session file %s: %s", s->path, strerror(errno));
        s->path[0] = 0;
        return -1;
    }
    cJSON *m = cJSON_CreateObject();
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    cJSON_AddStringToObject(m, "type", "session");
    cJSON_AddNumberToObject(m, "version", 1);
    cJSON_AddStringToObject(m, "id", s->id);
    cJSON_AddStringToObject(m, "model", s->o.model ? s->o.model : (s->b.name ? s->b.name : ""));
    cJSON_AddNumberToObject(m, "seed", (double)s->o.seed);
    cJSON_AddNumberToObject(m, "temperature", s->o.temperature);
    cJSON_AddBoolToObject(m, "think", s->o.think);
    cJSON_AddStringToObject(m, "cwd", cwd);
    cJSON_AddNumberToObject(m, "created", (double)time(NULL));
    cJSON_AddNumberToObject(m, "tool_choice", s->o.tool_choice);
    if (s->o.tool_choice_name) cJSON_AddStringToObject(m, "tool_choice_name", s->o.tool_choice_name);
    cJSON_AddNumberToObject(m, "think_budget", s->o.think_budget);
    cJSON_AddNumberToObject(m, "max_tokens", s->o.max_gen_tokens);
    cJSON_AddNumberToObject(m, "max_arg_bytes", s->o.max_arg_bytes);
    cJSON_AddNumberToObject(m, "max_turns", s->o.max_turns);
    cJSON_AddNumberToObject(m, "ctx", s->b.n_ctx);
    if (s->b.kv_type) cJSON_AddStringToObject(m, "kv_type", s->b.kv_type);
    cJSON_AddItemToObject(m, "tools", cJSON_Duplicate(s->tools, true));
    put_line(s, m);
    return 0;
}

/* Record one message as it is added. */
void ag_store_message(ag_session *s, const cJSON *msg)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "type", "message");
    cJSON_AddItemToObject(l, "message", cJSON_Duplicate(msg, true));
    put_line(s, l);
}

/* Record the whole message list after it was replaced (compaction, resume, /clear). */
void ag_store_compaction(ag_session *s)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "type", "compaction");
    cJSON_AddItemToObject(l, "messages", cJSON_Duplicate(s->messages, true));
    put_line(s, l);
}

/* Read a session file back: the message list (after compactions) and the
 * first line's description in *meta (may be NULL). */
cJSON *ag_store_read(const char *path, cJSON **meta, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, cap, "cannot open the session file %s: %s", path, strerror(errno)); return NULL; }
    cJSON *msgs = cJSON_CreateArray();
    if (meta) *meta = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    int lineno = 0;
    while (msgs && (n = getline(&line, &lcap, f)) > 0) {
        lineno++;
        if (n <= 1) continue;
        cJSON *l = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(l, "type");
        if (!cJSON_IsString(t)) {
            snprintf(err, cap, "%s:%d: not a session line (no \"type\"); the file is damaged", path, lineno);
            cJSON_Delete(l); cJSON_Delete(msgs); msgs = NULL;
            break;
        }
        if (!strcmp(t->valuestring, "session") && meta && !*meta) { *meta = l; continue; }
        if (!strcmp(t->valuestring, "message"))
            cJSON_AddItemToArray(msgs, cJSON_DetachItemFromObjectCaseSensitive(l, "message"));
        else if (!strcmp(t->valuestring, "compaction")) {
            cJSON_Delete(msgs);
            msgs = cJSON_DetachItemFromObjectCaseSensitive(l, "messages");
        }
        cJSON_Delete(l);
    }
    free(line);
    fclose(f);
    return msgs;
}

/* Public reader of session files (resume, replay, tests). */
cJSON *ag_session_read(const char *path, cJSON **meta, char *err, size_t cap)
{
    return ag_store_read(path, meta, err, cap);
}
