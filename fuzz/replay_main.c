/* replay_main.c -- run a libFuzzer target over files, without libFuzzer.
 *
 *     fuzz/build/json_replay fuzz/corpus/json fuzz/regressions/some-crash
 *
 * Every argument is a file or a directory (read recursively); each file is
 * passed once to LLVMFuzzerTestOneInput in a buffer of exactly its size, so
 * the same targets run under plain gcc -fsanitize=address,undefined in CI.
 * Arguments that start with '-' (libFuzzer flags) are ignored.  A failing
 * CHECK or a sanitizer report aborts with the name of the file on stderr.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long runs;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return 1;
    }
    buf = (uint8_t *)malloc(size ? (size_t)size : 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "%s: read failed\n", path);
        fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    fprintf(stderr, "Running: %s (%ld bytes)\n", path, size);
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    free(buf);
    runs++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *de;
    int failures = 0;

    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return 1;
    }
    while ((de = readdir(dir)) != NULL) {
        char *child;
        size_t n;

        if (de->d_name[0] == '.')
            continue;
        n = strlen(path) + strlen(de->d_name) + 2;
        child = (char *)malloc(n);
        if (child == NULL)
            return 1;
        snprintf(child, n, "%s/%s", path, de->d_name);
        failures += run_path(child);
        free(child);
    }
    closedir(dir);
    return failures;
}

int main(int argc, char **argv)
{
    int i, failures = 0;

    for (i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        failures += run_path(argv[i]);
    }
    fprintf(stderr, "Executed %lu inputs, %d unreadable\n", runs, failures);
    return failures ? 1 : 0;
}
