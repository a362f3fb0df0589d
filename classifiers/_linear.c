/* The inflammatory model's linear stage in C (optional: classifiers.inflammatory.fused falls back to the
 * numpy path of classifiers.inflammatory.features and .scoring, with the same doubles, when it is not built).
 *
 * chunk_sums: from a batch's normalised code points, every feature occurrence (words, word pairs, character
 *     n-grams) hashed to its column as TextFeatures.occurrences does, looked up in the ColumnTable, and summed
 *     per sentence ("chunk") and block as block_sums(by_chunk=True) sums them: one pass per kind of
 *     occurrence, in the order of FeatureOccurrences (words, pairs, then each n-gram size), so each sum adds
 *     the same doubles in the same order as numpy's bincount. No occurrence array is ever built.
 *
 * Every input is bounds-checked; a batch the numpy path would read differently (a size below 3, a text that
 * does not start and end with a non-word code) is returned as None, and the caller uses the numpy path.
 * Built with -ffp-contract=off: no fused multiply-add.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEWLINE 10
#define SPACE 32
#define WORD_MAX 24
#define N_MULTIPLIERS 32
#define MAX_SIZES 8
#define PAIR_MULTIPLIER 0x2545F4914F6CDD1DULL
#define PENDING 512

/* features._mix: a splitmix-style avalanche with a seed. */
static inline uint64_t
mix(uint64_t h, uint64_t seed)
{
    h += seed;
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h;
}

/* What one batch needs while it is summed; every array owned here. */
typedef struct {
    const int64_t *codes;
    Py_ssize_t n;
    const int32_t *slot;
    Py_ssize_t n_slot;
    const double *values;
    Py_ssize_t n_values; /* rows of two doubles */
    int64_t *chunk_of;   /* per code */
    int64_t *doc_of;     /* per code */
    Py_ssize_t n_chunks;
    Py_ssize_t n_words;
    double *num, *den; /* per chunk and block */
    int64_t *count;    /* occurrences per chunk */
    /* Occurrences waiting to be looked up: columns first, then all their table slots at once, so the
     * processor fetches many rows of the (megabytes large) table in parallel instead of one after another. */
    uint64_t pending_column[PENDING];
    Py_ssize_t pending_at[PENDING]; /* chunk * 2 + block */
    int32_t pending_row[PENDING];
    Py_ssize_t n_pending;
} Batch;

/* Look the pending occurrences up and add their rows to their sums, in order; -1 (IndexError set) for a
 * slot outside the table. */
static int
flush(Batch *b)
{
    const Py_ssize_t n = b->n_pending;
    b->n_pending = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        b->pending_row[k] = b->slot[b->pending_column[k]];
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        const int32_t row = b->pending_row[k];
        if (row < 0 || row >= b->n_values) {
            PyErr_SetString(PyExc_IndexError, "chunk_sums: a slot outside the table's values");
            return -1;
        }
        const Py_ssize_t at = b->pending_at[k];
        b->num[at] += b->values[2 * (Py_ssize_t)row];
        b->den[at] += b->values[2 * (Py_ssize_t)row + 1];
        b->count[at / 2]++;
    }
    return 0;
}

/* Queue the occurrence of `column` in the chunk's block (columns are below the slot table's size). */
static inline int
add(Batch *b, uint64_t column, int64_t chunk, int block)
{
    b->pending_column[b->n_pending] = column;
    b->pending_at[b->n_pending++] = chunk * 2 + block;
    return b->n_pending == PENDING ? flush(b) : 0;
}

/* Sentences and texts per code, as features._sentences and the cumulative sum of line breaks, and the text of
 * each sentence (`chunk_doc`: room for one per code). */
static void
number_chunks(Batch *b, int64_t *chunk_doc)
{
    const int64_t *c = b->codes;
    int64_t chunk = -1, doc = 0;
    for (Py_ssize_t p = 0; p < b->n; p++) {
        doc += c[p] == NEWLINE;
        int starts = p == 0 || c[p] == NEWLINE
                     || (b->n > 2 && p >= 2 && c[p - 1] == SPACE
                         && (c[p - 2] == '.' || c[p - 2] == '!' || c[p - 2] == '?'));
        if (starts) {
            chunk_doc[++chunk] = doc;
        }
        b->chunk_of[p] = chunk;
        b->doc_of[p] = doc;
    }
    b->n_chunks = chunk + 1;
}

PyDoc_STRVAR(chunk_sums_doc,
"chunk_sums(codes, word, multipliers, word_bits, char_bits, sizes, seed, slot, values, /)\n--\n\n"
"The linear stage's sums per sentence of a normalised batch (see the module's comment).\n\n"
"`codes` int64 code points (texts separated by line breaks, a space at both ends), `word` the bool table\n"
"of word code points (a code past its end is not one), `multipliers` the 32 uint64 position multipliers,\n"
"`sizes` the n-gram sizes in increasing order, `slot` (int32, one per column) and `values` (float64, two per\n"
"row) the ColumnTable. Returns (num, den, count, chunk_doc, word_doc, word_hash, word_column) as bytes:\n"
"per chunk and block the sums of weight x idf and of idf squared (float64), per chunk its occurrences and\n"
"text (int64), per word its text (int64), hash (uint64) and column (int64); or None (see above).");

static PyObject *chunk_sums_of(Batch *b, const unsigned char *word, Py_ssize_t n_word, const uint64_t *mult,
                               int word_bits, int char_bits, const Py_ssize_t *sizes, Py_ssize_t n_sizes,
                               uint64_t seed);

static PyObject *
chunk_sums(PyObject *module, PyObject *args)
{
    Py_buffer codes, word, mult, slot, values;
    int word_bits, char_bits;
    PyObject *size_list;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "y*y*y*iiO!Ky*y*:chunk_sums", &codes, &word, &mult, &word_bits, &char_bits,
                          &PyTuple_Type, &size_list, &seed, &slot, &values)) {
        return NULL;
    }
    PyObject *out = NULL;
    Py_ssize_t sizes[MAX_SIZES], n_sizes = PyTuple_GET_SIZE(size_list);
    int sized = n_sizes >= 1 && n_sizes <= MAX_SIZES;
    for (Py_ssize_t k = 0; sized && k < n_sizes; k++) {
        sizes[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(size_list, k));
        sized = !PyErr_Occurred() && sizes[k] <= N_MULTIPLIERS && (k == 0 || sizes[k] > sizes[k - 1]);
    }
    if (PyErr_Occurred()) {
        goto done;
    }
    if (!sized || word_bits < 1 || word_bits > 30 || char_bits < 1 || char_bits > 30
        || codes.len % (Py_ssize_t)sizeof(int64_t) || mult.len != N_MULTIPLIERS * (Py_ssize_t)sizeof(uint64_t)
        || slot.len != (((Py_ssize_t)1 << word_bits) + ((Py_ssize_t)1 << char_bits)) * (Py_ssize_t)sizeof(int32_t)
        || values.len % (2 * (Py_ssize_t)sizeof(double)) || values.len == 0) {
        PyErr_SetString(PyExc_ValueError, "chunk_sums: arrays of the wrong size, or sizes not increasing");
        goto done;
    }
    Batch b = {.codes = codes.buf, .n = codes.len / (Py_ssize_t)sizeof(int64_t), .slot = slot.buf,
               .n_slot = slot.len / (Py_ssize_t)sizeof(int32_t), .values = values.buf,
               .n_values = values.len / (2 * (Py_ssize_t)sizeof(double)), .n_pending = 0};
    out = chunk_sums_of(&b, word.buf, word.len, mult.buf, word_bits, char_bits, sizes, n_sizes, seed);
done:
    PyBuffer_Release(&codes);
    PyBuffer_Release(&word);
    PyBuffer_Release(&mult);
    PyBuffer_Release(&slot);
    PyBuffer_Release(&values);
    return out;
}

static inline int
is_word(const int64_t code, const unsigned char *word, Py_ssize_t n_word)
{
    return code >= 0 && code < n_word && word[code];
}

/* The words and their occurrences, then the pairs'; -1 on an error. */
static int
sum_words(Batch *b, const unsigned char *word, Py_ssize_t n_word, const uint64_t *mult, int word_bits,
          uint64_t seed, int64_t *word_doc, uint64_t *word_hash, int64_t *word_column, int64_t *word_start)
{
    const int64_t *c = b->codes;
    Py_ssize_t k = 0;
    for (Py_ssize_t p = 1; p < b->n; p++) {
        if (!is_word(c[p], word, n_word) || is_word(c[p - 1], word, n_word)) {
            continue;
        }
        Py_ssize_t end = p;
        while (end < b->n && is_word(c[end], word, n_word)) {
            end++;
        }
        uint64_t h = (uint64_t)(end - p);
        for (Py_ssize_t j = 0; j < end - p && j < WORD_MAX; j++) {
            h += (uint64_t)c[p + j] * mult[j];
        }
        word_doc[k] = b->doc_of[p];
        word_hash[k] = h;
        word_start[k] = p;
        word_column[k] = (int64_t)(mix(h, seed + 1) >> (64 - word_bits));
        if (add(b, (uint64_t)word_column[k], b->chunk_of[p], 0) < 0) {
            return -1;
        }
        k++;
    }
    for (Py_ssize_t i = 0; i + 1 < b->n_words; i++) {
        if (word_doc[i] != word_doc[i + 1]) {
            continue;
        }
        uint64_t column = mix(word_hash[i] * PAIR_MULTIPLIER + word_hash[i + 1], seed + 2) >> (64 - word_bits);
        if (add(b, column, b->chunk_of[word_start[i]], 0) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The character n-grams of each size, inside space-delimited chunks (spaces only at a window's ends). */
static int
sum_char_grams(Batch *b, const uint64_t *mult, int word_bits, int char_bits, const Py_ssize_t *sizes,
               Py_ssize_t n_sizes, uint64_t seed)
{
    const int64_t *c = b->codes;
    const uint64_t word_columns = (uint64_t)1 << word_bits;
    for (Py_ssize_t s = 0; s < n_sizes; s++) {
        const Py_ssize_t size = sizes[s];
        const uint64_t gram_seed = seed + 16 * (uint64_t)size + 7;
        Py_ssize_t inside = 0; /* codes before i + size - 1 since the last boundary, from i + 1 */
        for (Py_ssize_t i = 0; i + size <= b->n; i++) {
            /* No boundary among codes i + 1 .. i + size - 2: count the run of non-boundaries ending there. */
            if (i == 0) {
                inside = 0;
                for (Py_ssize_t q = 1; q <= size - 2; q++) {
                    inside = (c[q] == SPACE || c[q] == NEWLINE) ? 0 : inside + 1;
                }
            } else {
                Py_ssize_t q = i + size - 2;
                inside = (c[q] == SPACE || c[q] == NEWLINE) ? 0 : inside + 1;
            }
            if (inside < size - 2) {
                continue;
            }
            uint64_t h = 0;
            for (Py_ssize_t j = 0; j < size; j++) {
                int64_t code = c[i + j] == NEWLINE ? SPACE : c[i + j];
                h += (uint64_t)code * mult[j];
            }
            uint64_t column = (mix(h, gram_seed) >> (64 - char_bits)) + word_columns;
            if (add(b, column, b->chunk_of[i], 1) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static PyObject *
chunk_sums_of(Batch *b, const unsigned char *word, Py_ssize_t n_word, const uint64_t *mult, int word_bits,
              int char_bits, const Py_ssize_t *sizes, Py_ssize_t n_sizes, uint64_t seed)
{
    const Py_ssize_t n = b->n;
    if (n < 1 || sizes[0] < 3 || is_word(b->codes[0], word, n_word) || is_word(b->codes[n - 1], word, n_word)) {
        Py_RETURN_NONE; /* the numpy path reads these */
    }
    PyObject *out = NULL, *num = NULL, *den = NULL, *count = NULL, *chunk_doc = NULL;
    PyObject *word_doc = NULL, *word_hash = NULL, *word_column = NULL;
    int64_t *word_start = NULL, *first_doc = PyMem_Malloc(sizeof(int64_t) * (size_t)n);
    b->chunk_of = PyMem_Malloc(sizeof(int64_t) * (size_t)n);
    b->doc_of = PyMem_Malloc(sizeof(int64_t) * (size_t)n);
    if (b->chunk_of == NULL || b->doc_of == NULL || first_doc == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    number_chunks(b, first_doc);
    b->n_words = 0;
    for (Py_ssize_t p = 1; p < n; p++) {
        b->n_words += is_word(b->codes[p], word, n_word) && !is_word(b->codes[p - 1], word, n_word);
    }
    const Py_ssize_t nc = b->n_chunks, nw = b->n_words;
    num = PyBytes_FromStringAndSize(NULL, nc * 2 * (Py_ssize_t)sizeof(double));
    den = PyBytes_FromStringAndSize(NULL, nc * 2 * (Py_ssize_t)sizeof(double));
    count = PyBytes_FromStringAndSize(NULL, nc * (Py_ssize_t)sizeof(int64_t));
    chunk_doc = PyBytes_FromStringAndSize((const char *)first_doc, nc * (Py_ssize_t)sizeof(int64_t));
    word_doc = PyBytes_FromStringAndSize(NULL, nw * (Py_ssize_t)sizeof(int64_t));
    word_hash = PyBytes_FromStringAndSize(NULL, nw * (Py_ssize_t)sizeof(uint64_t));
    word_column = PyBytes_FromStringAndSize(NULL, nw * (Py_ssize_t)sizeof(int64_t));
    word_start = PyMem_Malloc(sizeof(int64_t) * (size_t)(nw ? nw : 1));
    if (!num || !den || !count || !chunk_doc || !word_doc || !word_hash || !word_column || !word_start) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        goto done;
    }
    b->num = (double *)PyBytes_AS_STRING(num);
    b->den = (double *)PyBytes_AS_STRING(den);
    b->count = (int64_t *)PyBytes_AS_STRING(count);
    memset(b->num, 0, (size_t)nc * 2 * sizeof(double));
    memset(b->den, 0, (size_t)nc * 2 * sizeof(double));
    memset(b->count, 0, (size_t)nc * sizeof(int64_t));
    if (sum_words(b, word, n_word, mult, word_bits, seed, (int64_t *)PyBytes_AS_STRING(word_doc),
                  (uint64_t *)PyBytes_AS_STRING(word_hash), (int64_t *)PyBytes_AS_STRING(word_column),
                  word_start) < 0
        || sum_char_grams(b, mult, word_bits, char_bits, sizes, n_sizes, seed) < 0 || flush(b) < 0) {
        goto done;
    }
    out = PyTuple_Pack(7, num, den, count, chunk_doc, word_doc, word_hash, word_column);
done:
    Py_XDECREF(num);
    Py_XDECREF(den);
    Py_XDECREF(count);
    Py_XDECREF(chunk_doc);
    Py_XDECREF(word_doc);
    Py_XDECREF(word_hash);
    Py_XDECREF(word_column);
    PyMem_Free(word_start);
    PyMem_Free(first_doc);
    PyMem_Free(b->chunk_of);
    PyMem_Free(b->doc_of);
    return out;
}

static PyMethodDef linear_methods[] = {
    {"chunk_sums", chunk_sums, METH_VARARGS, chunk_sums_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef linear_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "classifiers._linear",
    .m_doc = "The inflammatory model's linear stage sums (optional; see classifiers/inflammatory/fused.py).",
    .m_size = 0,
    .m_methods = linear_methods,
};

PyMODINIT_FUNC
PyInit__linear(void)
{
    return PyModule_Create(&linear_module);
}
