/* The duplicated-quote detector's hot loops in C (optional: classifiers.text falls back to numpy and
 * plain Python, with the same results, when this module is not built).
 *
 * hash_shingles: the word and shingle hashes of text already reduced to word bytes separated by zero
 *     bytes, exactly as classifiers.text._shingles_of computes them with numpy.
 * lookup_runs: look word-run hashes up in a dict (dict.get or dict.setdefault) and return the runs of
 *     equal values found, as itertools.groupby over the looked-up values would.
 * self_runs: add to those runs the runs of shingles that already stood earlier in the same post, as
 *     classifiers.duplicates._python_self_runs does.
 * ascii_words, content_terms: the off-topic detector's words of a lower-cased ASCII post and its topic
 *     words, as classifiers.offtopic.words reads them with its regular expressions and stop words.
 * add_weights, term_overlap: the off-topic thread memory's loops over a post's term weights, as
 *     classifiers.offtopic.memory's python_add_weights and python_term_overlap, in the same order with the
 *     same double arithmetic (built with -ffp-contract=off: no fused multiply-add).
 * tuple_hashes, term_weights: the off-topic detector's shingle hashes of topic words (Python's tuple hash)
 *     and a post's own terms counted and weighed, as classifiers.offtopic.memory's python_ versions.
 *
 * Every input is bounds-checked: any bytes (NULs, a megabyte of them, invalid UTF-8) are fine.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Words longer than this are hashed with the interpreter's hash (see classifiers/shingles.py). */
#define LONGEST_POLYNOMIAL_WORD 255
#define FOLD_SHIFT 29
#define SIEVE_SIZE (1 << 16)

/* hash(word) as classifiers.text does it for long words: the interpreter's (salted) hash of the bytes. */
static int
long_word_hash(const char *word, Py_ssize_t length, uint64_t *out)
{
    PyObject *bytes = PyBytes_FromStringAndSize(word, length);
    if (bytes == NULL) {
        return -1;
    }
    Py_hash_t hashed = PyObject_Hash(bytes);
    Py_DECREF(bytes);
    if (hashed == -1 && PyErr_Occurred()) {
        return -1;
    }
    *out = (uint64_t)hashed; /* two's complement: hash(word) & (2**64 - 1) */
    return 0;
}

PyDoc_STRVAR(hash_shingles_doc,
"hash_shingles(joined, size, word_base, run_base, sieve, /)\n--\n\n"
"Hashes of the words of `joined` (runs of non-zero bytes) and of every run of `size` of them.\n\n"
"Returns (hashes, hash_bytes, starts, ends, letters_before, candidates): the shingle hashes as a\n"
"list of signed ints and as int64 bytes, the words' start and end offsets as Py_ssize_t bytes, the\n"
"letters (bytes) of the words before each word and before the end as Py_ssize_t bytes, and the word\n"
"hashes whose top 16 bits are set in the 65,536-byte `sieve`.");

static PyObject *
hash_shingles(PyObject *module, PyObject *args)
{
    Py_buffer text, sieve;
    Py_ssize_t size;
    unsigned long long word_base, run_base;
    if (!PyArg_ParseTuple(args, "y*nKKy*:hash_shingles", &text, &size, &word_base, &run_base, &sieve)) {
        return NULL;
    }
    PyObject *result = NULL, *hashes = NULL, *hash_bytes = NULL, *starts = NULL, *ends = NULL;
    PyObject *letters_before = NULL, *candidates = NULL;
    uint64_t *word_hashes = NULL;
    const unsigned char *bytes = (const unsigned char *)text.buf;
    const unsigned char *sieve_bits = (const unsigned char *)sieve.buf;
    const Py_ssize_t length = text.len;

    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "size must be at least 1");
        goto done;
    }
    if (sieve.len != SIEVE_SIZE) {
        PyErr_SetString(PyExc_ValueError, "sieve must hold 65536 bytes");
        goto done;
    }
    /* At most one word per two bytes (a word and its separator), rounded up. */
    const Py_ssize_t most_words = length / 2 + 1;
    if (most_words >= PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(uint64_t)) { /* (+ 1 for letters_before) */
        PyErr_NoMemory();
        goto done;
    }
    starts = PyBytes_FromStringAndSize(NULL, most_words * (Py_ssize_t)sizeof(Py_ssize_t));
    ends = PyBytes_FromStringAndSize(NULL, most_words * (Py_ssize_t)sizeof(Py_ssize_t));
    letters_before = PyBytes_FromStringAndSize(NULL, (most_words + 1) * (Py_ssize_t)sizeof(Py_ssize_t));
    word_hashes = PyMem_New(uint64_t, most_words);
    candidates = PyList_New(0);
    if (starts == NULL || ends == NULL || letters_before == NULL || word_hashes == NULL ||
        candidates == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    Py_ssize_t *start_at = (Py_ssize_t *)PyBytes_AS_STRING(starts);
    Py_ssize_t *end_at = (Py_ssize_t *)PyBytes_AS_STRING(ends);
    Py_ssize_t *letters_at = (Py_ssize_t *)PyBytes_AS_STRING(letters_before);
    letters_at[0] = 0;

    /* Words and their hashes: sum of byte * word_base**(its place in the word), modulo 2**64. */
    Py_ssize_t words = 0;
    Py_ssize_t i = 0;
    while (i < length) {
        if (bytes[i] == 0) {
            i++;
            continue;
        }
        const Py_ssize_t first = i;
        uint64_t hash = 0, power = 1;
        while (i < length && bytes[i] != 0) {
            hash += (uint64_t)bytes[i] * power;
            power *= (uint64_t)word_base;
            i++;
        }
        if (i - first > LONGEST_POLYNOMIAL_WORD &&
            long_word_hash((const char *)bytes + first, i - first, &hash) < 0) {
            goto done;
        }
        if (sieve_bits[hash >> 48]) {
            PyObject *candidate = PyLong_FromUnsignedLongLong(hash);
            if (candidate == NULL || PyList_Append(candidates, candidate) < 0) {
                Py_XDECREF(candidate);
                goto done;
            }
            Py_DECREF(candidate);
        }
        start_at[words] = first;
        end_at[words] = i;
        letters_at[words + 1] = letters_at[words] + (i - first);
        word_hashes[words] = hash;
        words++;
    }
    if (_PyBytes_Resize(&starts, words * (Py_ssize_t)sizeof(Py_ssize_t)) < 0 ||
        _PyBytes_Resize(&ends, words * (Py_ssize_t)sizeof(Py_ssize_t)) < 0 ||
        _PyBytes_Resize(&letters_before, (words + 1) * (Py_ssize_t)sizeof(Py_ssize_t)) < 0) {
        goto done;
    }

    /* Shingles: sum of word_hash[k + j] * run_base**j over the run, its high bits folded in. */
    const Py_ssize_t runs = words >= size ? words - size + 1 : 0;
    hashes = PyList_New(runs);
    hash_bytes = PyBytes_FromStringAndSize(NULL, runs * (Py_ssize_t)sizeof(int64_t));
    if (hashes == NULL || hash_bytes == NULL) {
        goto done;
    }
    int64_t *hash_out = (int64_t *)PyBytes_AS_STRING(hash_bytes);
    for (Py_ssize_t k = 0; k < runs; k++) {
        uint64_t hash = 0;
        for (Py_ssize_t j = size - 1; j >= 0; j--) {
            hash = hash * (uint64_t)run_base + word_hashes[k + j];
        }
        hash ^= hash >> FOLD_SHIFT;
        hash_out[k] = (int64_t)hash;
        PyObject *value = PyLong_FromLongLong((long long)(int64_t)hash);
        if (value == NULL) {
            goto done;
        }
        PyList_SET_ITEM(hashes, k, value);
    }
    result = PyTuple_Pack(6, hashes, hash_bytes, starts, ends, letters_before, candidates);

done:
    PyMem_Free(word_hashes);
    Py_XDECREF(hashes);
    Py_XDECREF(hash_bytes);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(letters_before);
    Py_XDECREF(candidates);
    PyBuffer_Release(&text);
    PyBuffer_Release(&sieve);
    return result;
}

/* Append (first, end, value) to `runs`. */
static int
add_run(PyObject *runs, Py_ssize_t first, Py_ssize_t end, PyObject *value)
{
    PyObject *run = Py_BuildValue("(nnO)", first, end, value);
    if (run == NULL) {
        return -1;
    }
    int status = PyList_Append(runs, run);
    Py_DECREF(run);
    return status;
}

/* 1 when a == b (ints compare by value), 0 when not, -1 on error. */
static int
same_value(PyObject *a, PyObject *b)
{
    return a == b ? 1 : PyObject_RichCompareBool(a, b, Py_EQ);
}

PyDoc_STRVAR(lookup_runs_doc,
"lookup_runs(table, keys, start, stop, default, store, /)\n--\n\n"
"Look keys[start:stop] up in the dict `table` (table.setdefault(key, default) if `store`, else\n"
"table.get(key, default)) and return (runs, added, defaults): the runs (first, end, value) of equal\n"
"looked-up values other than `default`, in order, with positions in `keys`; how many keys were added\n"
"to the table; and how many lookups gave `default`.");

static PyObject *
lookup_runs(PyObject *module, PyObject *args)
{
    PyObject *table, *keys, *fallback;
    Py_ssize_t start, stop;
    int store;
    if (!PyArg_ParseTuple(args, "O!O!nnOp:lookup_runs", &PyDict_Type, &table, &PyList_Type, &keys, &start,
                          &stop, &fallback, &store)) {
        return NULL;
    }
    PyObject *runs = PyList_New(0);
    if (runs == NULL) {
        return NULL;
    }
    const Py_ssize_t before = PyDict_GET_SIZE(table);
    Py_ssize_t defaults = 0;
    PyObject *current = NULL; /* the value of the open run (a new reference), or NULL */
    Py_ssize_t run_start = 0;
    if (start < 0) {
        start = 0;
    }
    Py_ssize_t i;
    /* The list's length is read at every step: a key's __eq__ could change it (ints never do). */
    for (i = start; i < stop && i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        Py_INCREF(key);
        PyObject *value;
        if (store) {
            value = PyDict_SetDefault(table, key, fallback); /* borrowed */
        }
        else {
            value = PyDict_GetItemWithError(table, key); /* borrowed */
            if (value == NULL && !PyErr_Occurred()) {
                value = fallback;
            }
        }
        Py_DECREF(key);
        if (value == NULL) {
            goto error;
        }
        Py_INCREF(value);
        int is_default = same_value(value, fallback);
        int continues = is_default < 0 || current == NULL ? is_default : same_value(value, current);
        if (is_default < 0 || continues < 0) {
            Py_DECREF(value);
            goto error;
        }
        if (current != NULL && (is_default || !continues)) {
            /* The open run ends here. */
            int status = add_run(runs, run_start, i, current);
            Py_CLEAR(current);
            if (status < 0) {
                Py_DECREF(value);
                goto error;
            }
        }
        if (is_default) {
            defaults++;
            Py_DECREF(value);
        }
        else if (current == NULL) {
            current = value;
            run_start = i;
        }
        else {
            Py_DECREF(value); /* the open run goes on */
        }
    }
    if (current != NULL) {
        int status = add_run(runs, run_start, i, current);
        Py_CLEAR(current);
        if (status < 0) {
            goto error;
        }
    }
    return Py_BuildValue("(Nnn)", runs, PyDict_GET_SIZE(table) - before, defaults);

error:
    Py_XDECREF(current);
    Py_DECREF(runs);
    return NULL;
}

/* One slot of self_runs' open-addressing table: a shingle hash and its earliest position (-1: empty). */
typedef struct {
    uint64_t key;
    Py_ssize_t first;
} earliest_slot;

PyDoc_STRVAR(self_runs_doc,
"self_runs(hashes, size, runs, marker, /)\n--\n\n"
"`runs` (first, end, value), in order and apart, with the runs (first, end, marker) added of the\n"
"positions outside them whose hash (of the int64 buffer `hashes`) first stood at least `size` places\n"
"earlier; all in order (`runs` itself when no shingle did).");

static PyObject *
self_runs(PyObject *module, PyObject *args)
{
    Py_buffer buffer;
    Py_ssize_t size;
    PyObject *runs, *marker;
    if (!PyArg_ParseTuple(args, "y*nO!O:self_runs", &buffer, &size, &PyList_Type, &runs, &marker)) {
        return NULL;
    }
    PyObject *out = NULL;
    earliest_slot *slots = NULL;
    unsigned char *again = NULL; /* 1 where a position's shingle first stood `size` or more earlier */
    const unsigned char *bytes = (const unsigned char *)buffer.buf;
    if (buffer.len % (Py_ssize_t)sizeof(uint64_t) != 0) {
        PyErr_SetString(PyExc_ValueError, "hashes must be int64 values");
        goto done;
    }
    if (size < 0) {
        PyErr_SetString(PyExc_ValueError, "size must not be negative");
        goto done;
    }
    const Py_ssize_t count = buffer.len / (Py_ssize_t)sizeof(uint64_t);

    /* Mark the positions outside `runs` whose shingle stood at least `size` places before. */
    size_t capacity = 8;
    while (capacity < (size_t)count * 2) {
        capacity *= 2; /* count <= PY_SSIZE_T_MAX / 8, so this never overflows */
    }
    if (capacity > (size_t)PY_SSIZE_T_MAX / sizeof(earliest_slot)) {
        PyErr_NoMemory();
        goto done;
    }
    slots = PyMem_New(earliest_slot, capacity);
    again = PyMem_Malloc(count > 0 ? (size_t)count : 1);
    if (slots == NULL || again == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t s = 0; s < capacity; s++) {
        slots[s].first = -1;
    }
    int shift = 64;
    for (size_t c = capacity; c > 1; c >>= 1) {
        shift--;
    }
    const size_t mask = capacity - 1;
    Py_ssize_t found = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t key;
        memcpy(&key, bytes + i * (Py_ssize_t)sizeof(uint64_t), sizeof key); /* any alignment */
        size_t s = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> shift) & mask;
        while (slots[s].first >= 0 && slots[s].key != key) {
            s = (s + 1) & mask; /* at most half the slots are used: an empty one comes */
        }
        if (slots[s].first < 0) {
            slots[s].key = key;
            slots[s].first = i;
        }
        again[i] = slots[s].first <= i - size; /* (a first place too when size is 0) */
        found += again[i];
    }
    if (found == 0) {
        Py_INCREF(runs);
        out = runs;
        goto done;
    }

    /* Merge: the given runs as they are, the marked positions between them as runs of `marker`. */
    out = PyList_New(0);
    if (out == NULL) {
        goto done;
    }
    /* No Python code runs in this loop (PyLong_AsSsize_t never calls __index__), so `runs` stays as it
       is and its items can be borrowed. */
    Py_ssize_t pos = 0; /* positions before this one are done */
    const Py_ssize_t given = PyList_GET_SIZE(runs);
    for (Py_ssize_t r = 0; r <= given; r++) {
        PyObject *run = NULL;
        Py_ssize_t first = count, end = count;
        if (r < given) {
            run = PyList_GET_ITEM(runs, r);
            if (!PyTuple_Check(run) || PyTuple_GET_SIZE(run) != 3) {
                PyErr_SetString(PyExc_TypeError, "runs must be (first, end, value) tuples");
                goto error;
            }
            first = PyLong_AsSsize_t(PyTuple_GET_ITEM(run, 0));
            end = PyLong_AsSsize_t(PyTuple_GET_ITEM(run, 1));
            if ((first == -1 || end == -1) && PyErr_Occurred()) {
                goto error;
            }
            if (first < pos || end <= first || end > count) {
                PyErr_SetString(PyExc_ValueError, "runs must be in order, apart and within the hashes");
                goto error;
            }
        }
        Py_ssize_t i = pos;
        while (i < first) {
            if (!again[i]) {
                i++;
                continue;
            }
            const Py_ssize_t start = i;
            while (i < first && again[i]) {
                i++;
            }
            if (add_run(out, start, i, marker) < 0) {
                goto error;
            }
        }
        if (run != NULL && PyList_Append(out, run) < 0) {
            goto error;
        }
        pos = end;
    }
    goto done;

error:
    Py_CLEAR(out);
done:
    PyMem_Free(slots);
    PyMem_Free(again);
    PyBuffer_Release(&buffer);
    return out;
}

/* \w of Python's re for an ASCII character. */
static int
is_re_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* [a-z0-9_]: a character of an off-topic word (lower-cased text). */
static int
is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

PyDoc_STRVAR(ascii_words_doc,
"ascii_words(text, /)\n--\n\n"
"The words of an ASCII `text` as classifiers.offtopic.words reads lower-cased ASCII: every \"'s\" that\n"
"ends a word removed (re.sub(r\"'s\\b\", \"\", text)), then the runs of [a-z0-9_] joined by single\n"
"' . or - characters (re.findall(r\"[a-z0-9_]+(?:['.\\-][a-z0-9_]+)*\", ...)).");

static PyObject *
ascii_words(PyObject *module, PyObject *args)
{
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U:ascii_words", &text)) {
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "ascii_words: the text is not ASCII");
        return NULL;
    }
    const unsigned char *in = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    unsigned char *kept = PyMem_Malloc(n > 0 ? (size_t)n : 1);
    if (kept == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t m = 0; /* the text without its possessive 's */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (in[i] == '\'' && i + 1 < n && in[i + 1] == 's' && (i + 2 == n || !is_re_word(in[i + 2]))) {
            i++;
            continue;
        }
        kept[m++] = in[i];
    }
    PyObject *out = PyList_New(0);
    Py_ssize_t i = 0;
    while (out != NULL && i < m) {
        if (!is_word_char(kept[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < m && is_word_char(kept[i])) {
            i++;
        }
        while (i + 1 < m && (kept[i] == '\'' || kept[i] == '.' || kept[i] == '-') && is_word_char(kept[i + 1])) {
            i++;
            while (i < m && is_word_char(kept[i])) {
                i++;
            }
        }
        PyObject *word = PyUnicode_New(i - start, 127);
        if (word == NULL || (memcpy(PyUnicode_1BYTE_DATA(word), kept + start, (size_t)(i - start)),
                             PyList_Append(out, word) < 0)) {
            Py_XDECREF(word);
            Py_CLEAR(out);
            break;
        }
        Py_DECREF(word);
    }
    PyMem_Free(kept);
    return out;
}

PyDoc_STRVAR(content_terms_doc,
"content_terms(words, stop_words, /)\n--\n\n"
"The words (str) that carry a topic, in order: not in the set `stop_words`, longer than one character,\n"
"not starting with a digit (str.isdigit), as classifiers.offtopic.words.content_terms.");

static PyObject *
content_terms(PyObject *module, PyObject *args)
{
    PyObject *words, *stop;
    if (!PyArg_ParseTuple(args, "OO:content_terms", &words, &stop)) {
        return NULL;
    }
    if (!PyAnySet_Check(stop)) {
        PyErr_SetString(PyExc_TypeError, "content_terms: stop_words must be a set or frozenset");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(words, "content_terms: words must be iterable");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        PyObject *word = items[k];
        if (!PyUnicode_Check(word)) {
            PyErr_SetString(PyExc_TypeError, "content_terms: every word must be a str");
            Py_CLEAR(out);
            break;
        }
        if (PyUnicode_GET_LENGTH(word) <= 1 || Py_UNICODE_ISDIGIT(PyUnicode_READ_CHAR(word, 0))) {
            continue;
        }
        int stopped = PySet_Contains(stop, word);
        if (stopped < 0 || (!stopped && PyList_Append(out, word) < 0)) {
            Py_CLEAR(out);
        }
    }
    Py_DECREF(seq);
    return out;
}

/* A dict value as a double (a float or an int), -1 with an exception set when it is neither. */
static int
as_double(PyObject *value, double *out)
{
    *out = PyFloat_AsDouble(value);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* `dict[key]` as a double in `out` and 1 in `found`, or 0 in `found` when the key is missing; -1 on an error. */
static int
lookup_double(PyObject *dict, PyObject *key, double *out, int *found)
{
    PyObject *value = PyDict_GetItemWithError(dict, key);
    *found = value != NULL;
    if (value == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return as_double(value, out);
}

PyDoc_STRVAR(add_weights_doc,
"add_weights(profile, weights, scale, sq, /)\n--\n\n"
"Add every value of the dict `weights` times `scale` to the dict `profile` (from 0.0 for a term it lacks)\n"
"and return `sq` plus what that adds to the profile's sum of squares, (2 old + add) add term by term.");

static PyObject *
add_weights(PyObject *module, PyObject *args)
{
    PyObject *profile, *weights, *term, *value;
    double scale, sq;
    if (!PyArg_ParseTuple(args, "O!O!dd:add_weights", &PyDict_Type, &profile, &PyDict_Type, &weights, &scale,
                          &sq)) {
        return NULL;
    }
    if (profile == weights) {
        PyErr_SetString(PyExc_ValueError, "add_weights: profile and weights must be two dicts");
        return NULL;
    }
    Py_ssize_t pos = 0;
    while (PyDict_Next(weights, &pos, &term, &value)) {
        double w, old = 0.0;
        int found;
        if (as_double(value, &w) < 0 || lookup_double(profile, term, &old, &found) < 0) {
            return NULL;
        }
        double add = w * scale;
        PyObject *sum = PyFloat_FromDouble(old + add);
        if (sum == NULL) {
            return NULL;
        }
        int failed = PyDict_SetItem(profile, term, sum);
        Py_DECREF(sum);
        if (failed) {
            return NULL;
        }
        sq += (2.0 * old + add) * add;
    }
    return PyFloat_FromDouble(sq);
}

PyDoc_STRVAR(term_overlap_doc,
"term_overlap(weights, anchor, thread, /)\n--\n\n"
"In one pass over the dict `weights`: its dot products with the dicts `anchor` and `thread`, its weight on\n"
"terms either holds, and its total weight, as (a_dot, t_dot, shared, total).");

static PyObject *
term_overlap(PyObject *module, PyObject *args)
{
    PyObject *weights, *anchor, *thread, *term, *value;
    if (!PyArg_ParseTuple(args, "O!O!O!:term_overlap", &PyDict_Type, &weights, &PyDict_Type, &anchor,
                          &PyDict_Type, &thread)) {
        return NULL;
    }
    double a_dot = 0.0, t_dot = 0.0, shared = 0.0, total = 0.0;
    Py_ssize_t pos = 0;
    while (PyDict_Next(weights, &pos, &term, &value)) {
        double w, t = 0.0, a = 0.0;
        int in_thread, in_anchor;
        if (as_double(value, &w) < 0 || lookup_double(thread, term, &t, &in_thread) < 0
            || lookup_double(anchor, term, &a, &in_anchor) < 0) {
            return NULL;
        }
        total += w;
        if (in_thread) {
            t_dot += w * t;
        }
        if (in_anchor) {
            a_dot += w * a;
        }
        if (in_anchor || in_thread) {
            shared += w;
        }
    }
    return Py_BuildValue("(dddd)", a_dot, t_dot, shared, total);
}

/* Python's tuple hash (Objects/tupleobject.c since 3.8, xxHash-style), for 64-bit hashes. */
#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)
#define XXROTATE(x) (((x) << 31) | ((x) >> 33))

PyDoc_STRVAR(tuple_hashes_doc,
"tuple_hashes(items, size, /)\n--\n\n"
"hash(tuple(items[i:i + size])) for every i, as a list of ints: Python's own tuple hash, computed without\n"
"building the tuples (empty when the list `items` is shorter than `size`).");

static PyObject *
tuple_hashes(PyObject *module, PyObject *args)
{
    PyObject *items;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "O!n:tuple_hashes", &PyList_Type, &items, &size)) {
        return NULL;
    }
    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "tuple_hashes: size must be at least 1");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(items);
    Py_ssize_t count = n >= size ? n - size + 1 : 0;
    if (count == 0) {
        return PyList_New(0);
    }
    Py_uhash_t *lanes = PyMem_Malloc(sizeof(Py_uhash_t) * (size_t)n);
    if (lanes == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_hash_t lane = PyObject_Hash(PyList_GET_ITEM(items, i));
        if (lane == -1) {
            PyMem_Free(lanes);
            return NULL;
        }
        lanes[i] = (Py_uhash_t)lane;
    }
    PyObject *out = PyList_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        Py_uhash_t acc = XXPRIME_5;
        for (Py_ssize_t j = 0; j < size; j++) {
            acc += lanes[i + j] * XXPRIME_2;
            acc = XXROTATE(acc);
            acc *= XXPRIME_1;
        }
        acc += (Py_uhash_t)size ^ (XXPRIME_5 ^ 3527539UL);
        PyObject *hashed = PyLong_FromSsize_t(acc == (Py_uhash_t)-1 ? 1546275796 : (Py_hash_t)acc);
        if (hashed == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, hashed);
    }
    PyMem_Free(lanes);
    return out;
}

/* A read-only, C-contiguous buffer of doubles (a float64 numpy array), 0; else -1 with TypeError set. */
static int
double_buffer(PyObject *object, Py_buffer *view, const char *what)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return -1;
    }
    if (view->itemsize != sizeof(double) || view->format == NULL || strcmp(view->format, "d") != 0
        || view->len == 0) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "term_weights: %s must be a non-empty float64 array", what);
        return -1;
    }
    return 0;
}

/* The distinct own terms of a post in order of first appearance, with their counts (`keys` borrowed). */
typedef struct {
    PyObject **keys;
    Py_ssize_t *counts;
    Py_ssize_t distinct;
    Py_ssize_t total;
} TermCounts;

/* Count the terms of `terms` whose `mask` entry is false (all when `mask` is None), as Counter does. */
static int
count_terms(PyObject *terms, PyObject *mask, TermCounts *found)
{
    Py_ssize_t n = PyList_GET_SIZE(terms);
    PyObject *slots = PyDict_New();
    found->keys = PyMem_Malloc(sizeof(PyObject *) * (size_t)(n ? n : 1));
    found->counts = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    found->distinct = found->total = 0;
    if (slots == NULL || found->keys == NULL || found->counts == NULL) {
        Py_XDECREF(slots);
        return PyErr_NoMemory(), -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        /* Only bools and strs: nothing here runs Python code that could change the lists. */
        PyObject *quoted = mask == Py_None ? Py_False : PyList_GET_ITEM(mask, i);
        PyObject *term = PyList_GET_ITEM(terms, i);
        if (!PyBool_Check(quoted) || !PyUnicode_CheckExact(term)) {
            PyErr_SetString(PyExc_TypeError, "term_weights: terms must be strs and mask entries bools");
            Py_DECREF(slots);
            return -1;
        }
        if (quoted == Py_True) {
            continue;
        }
        PyObject *slot = PyDict_GetItemWithError(slots, term);
        if (slot != NULL) {
            found->counts[PyLong_AsSsize_t(slot)]++;
        } else {
            PyObject *number = PyErr_Occurred() ? NULL : PyLong_FromSsize_t(found->distinct);
            if (number == NULL || PyDict_SetItem(slots, term, number) < 0) {
                Py_XDECREF(number);
                Py_DECREF(slots);
                return -1;
            }
            Py_DECREF(number);
            found->keys[found->distinct] = term;
            found->counts[found->distinct++] = 1;
        }
        found->total++;
    }
    Py_DECREF(slots);
    return 0;
}

/* The weights dict, the rows and the weights as bytes, for counted terms; NULL with an exception set. */
static PyObject *
weigh_terms(const TermCounts *counted, PyObject *index, const Py_buffer *idf, const Py_buffer *logs)
{
    Py_ssize_t n = counted->distinct, n_idf = idf->len / (Py_ssize_t)sizeof(double), unknown = 0;
    const double *idf_values = idf->buf, *log_values = logs->buf;
    PyObject *weights = PyDict_New();
    PyObject *rows = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(Py_ssize_t));
    PyObject *values = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(double));
    if (weights == NULL || rows == NULL || values == NULL) {
        goto fail;
    }
    Py_ssize_t *row_out = (Py_ssize_t *)PyBytes_AS_STRING(rows);
    double *value_out = (double *)PyBytes_AS_STRING(values);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyDict_GetItemWithError(index, counted->keys[i]);
        Py_ssize_t r = -1;
        if (row != NULL) {
            r = PyLong_AsSsize_t(row);
            if (r == -1 && PyErr_Occurred()) {
                goto fail;
            }
            if (r < 0 || r >= n_idf - 1) {
                PyErr_SetString(PyExc_IndexError, "term_weights: an index row outside idf");
                goto fail;
            }
        } else if (PyErr_Occurred()) {
            goto fail;
        }
        unknown += r < 0;
        double w = log_values[counted->counts[i] - 1] * idf_values[r < 0 ? n_idf - 1 : r];
        row_out[i] = r;
        value_out[i] = w;
        PyObject *weight = PyFloat_FromDouble(w);
        if (weight == NULL || PyDict_SetItem(weights, counted->keys[i], weight) < 0) {
            Py_XDECREF(weight);
            goto fail;
        }
        Py_DECREF(weight);
    }
    return Py_BuildValue("(NNNnn)", weights, rows, values, unknown, counted->total);
fail:
    Py_XDECREF(weights);
    Py_XDECREF(rows);
    Py_XDECREF(values);
    return NULL;
}

PyDoc_STRVAR(term_weights_doc,
"term_weights(terms, mask, index, idf, log_table, /)\n--\n\n"
"A post's own terms as sublinear TF-IDF weights, as classifiers.offtopic.memory.python_term_weights: the\n"
"str terms of the list `terms` whose entry in the list `mask` is false (all when `mask` is None), counted\n"
"in order of first appearance; a term counted n times weighs log_table[n - 1] x idf[index.get(term, -1)].\n"
"Returns (weights, rows, values, unknown, own): the dict term -> weight, the idf rows (Py_ssize_t bytes,\n"
"-1 for a term `index` lacks), the weights (float64 bytes), the number of such unknown terms and of own\n"
"term occurrences; None when a count is past the end of `log_table`.");

static PyObject *
term_weights(PyObject *module, PyObject *args)
{
    PyObject *terms, *mask, *index, *idf_object, *log_object, *out = NULL;
    if (!PyArg_ParseTuple(args, "O!OO!OO:term_weights", &PyList_Type, &terms, &mask, &PyDict_Type, &index,
                          &idf_object, &log_object)) {
        return NULL;
    }
    if (mask != Py_None && (!PyList_Check(mask) || PyList_GET_SIZE(mask) != PyList_GET_SIZE(terms))) {
        PyErr_SetString(PyExc_ValueError, "term_weights: mask must be None or a list as long as terms");
        return NULL;
    }
    Py_buffer idf, logs;
    if (double_buffer(idf_object, &idf, "idf") < 0) {
        return NULL;
    }
    if (double_buffer(log_object, &logs, "log_table") < 0) {
        PyBuffer_Release(&idf);
        return NULL;
    }
    TermCounts counted = {NULL, NULL, 0, 0};
    if (count_terms(terms, mask, &counted) == 0) {
        Py_ssize_t longest = 0, n_logs = logs.len / (Py_ssize_t)sizeof(double);
        for (Py_ssize_t i = 0; i < counted.distinct; i++) {
            longest = counted.counts[i] > longest ? counted.counts[i] : longest;
        }
        out = longest > n_logs ? Py_NewRef(Py_None) : weigh_terms(&counted, index, &idf, &logs);
    }
    PyMem_Free(counted.keys);
    PyMem_Free(counted.counts);
    PyBuffer_Release(&idf);
    PyBuffer_Release(&logs);
    return out;
}

static PyMethodDef shingles_methods[] = {
    {"hash_shingles", hash_shingles, METH_VARARGS, hash_shingles_doc},
    {"lookup_runs", lookup_runs, METH_VARARGS, lookup_runs_doc},
    {"self_runs", self_runs, METH_VARARGS, self_runs_doc},
    {"ascii_words", ascii_words, METH_VARARGS, ascii_words_doc},
    {"content_terms", content_terms, METH_VARARGS, content_terms_doc},
    {"add_weights", add_weights, METH_VARARGS, add_weights_doc},
    {"term_overlap", term_overlap, METH_VARARGS, term_overlap_doc},
    {"tuple_hashes", tuple_hashes, METH_VARARGS, tuple_hashes_doc},
    {"term_weights", term_weights, METH_VARARGS, term_weights_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef shingles_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "classifiers._shingles",
    .m_doc = "Hot loops of the detectors (optional; see classifiers/shingles.py).",
    .m_size = 0,
    .m_methods = shingles_methods,
};

PyMODINIT_FUNC
PyInit__shingles(void)
{
    return PyModule_Create(&shingles_module);
}
