/* The floor build of cpg_bench.c (compiled with BENCH_PYTHON_CALLBACK and BENCH_DIR): its
 * deliver callback also calls the binding worker's own Python callback
 * (cpg_bench.own_counter in BENCH_DIR/cpg_bench.py) through CPython's C API, with the least
 * glue any binding could have: the GIL held throughout, the group's name made once, the
 * node id and pid reused while they stay the same (as the binding does), a new bytes object
 * per message. What it reaches is the best a Python binding can do for this work here: the
 * bench prints it beside C and the binding, so that what the binding adds is told apart from
 * what running Python per message costs. Include after worker.h, with <Python.h> included
 * before anything else. */
#pragma once

#ifndef BENCH_DIR
#error "define BENCH_DIR (the directory holding cpg_bench.py) for the floor build"
#endif

static PyObject *py_deliver, *py_group, *py_nodeid, *py_pid;
static uint32_t py_last_nodeid, py_last_pid;

__attribute__((noreturn)) static void python_die(const char *what) {
    PyErr_Print();
    die("%s failed (the Python error is above)", what);
}

static PyObject *python_uint(uint32_t value) {
    PyObject *object = PyLong_FromUnsignedLong(value);
    if (object == NULL) python_die("PyLong_FromUnsignedLong");
    return object;
}

/* Starts the interpreter and makes the callback for this process's own messages. */
static void python_start(const char *group, uint32_t nodeid, uint32_t pid) {
    Py_Initialize();
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *dir = PyUnicode_FromString(BENCH_DIR);
    if (path == NULL || dir == NULL || PyList_Insert(path, 0, dir) != 0) python_die("sys.path");
    Py_DECREF(dir);
    PyObject *module = PyImport_ImportModule("cpg_bench");
    if (module == NULL) python_die("import cpg_bench");
    PyObject *pair = PyObject_CallMethod(module, "own_counter", "kk", (unsigned long)nodeid,
                                         (unsigned long)pid);
    if (pair == NULL || !PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
        python_die("cpg_bench.own_counter");
    py_deliver = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    Py_DECREF(pair);
    Py_DECREF(module);
    py_group = PyUnicode_FromString(group);
    if (py_group == NULL) python_die("PyUnicode_FromString");
    py_last_nodeid = nodeid;
    py_last_pid = pid;
    py_nodeid = python_uint(nodeid);
    py_pid = python_uint(pid);
}

/* Calls the Python callback for one delivered message. */
static void python_deliver(uint32_t nodeid, uint32_t pid, const void *msg, size_t len) {
    if (nodeid != py_last_nodeid) {
        Py_SETREF(py_nodeid, python_uint(nodeid));
        py_last_nodeid = nodeid;
    }
    if (pid != py_last_pid) {
        Py_SETREF(py_pid, python_uint(pid));
        py_last_pid = pid;
    }
    PyObject *message = PyBytes_FromStringAndSize(msg, (Py_ssize_t)len);
    if (message == NULL) python_die("PyBytes_FromStringAndSize");
    PyObject *args[] = {py_group, py_nodeid, py_pid, message};
    PyObject *result = PyObject_Vectorcall(py_deliver, args, 4, NULL);
    Py_DECREF(message);
    if (result == NULL) python_die("the deliver callback");
    Py_DECREF(result);
}
