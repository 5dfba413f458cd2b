/* Kahan–Babuška (Neumaier) compensated summation of an iterable of floats. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

static PyObject *ksum(PyObject *self, PyObject *iterable) {
    PyObject *it = PyObject_GetIter(iterable);
    if (!it) return NULL;
    double sum = 0.0, c = 0.0;
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        double x = PyFloat_AsDouble(item);
        Py_DECREF(item);
        if (x == -1.0 && PyErr_Occurred()) {
            Py_DECREF(it);
            return NULL;
        }
        double t = sum + x;
        c += (fabs(sum) >= fabs(x)) ? (sum - t) + x : (x - t) + sum;
        sum = t;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(sum + c);
}

static PyMethodDef methods[] = {
    {"ksum", ksum, METH_O, "Sum floats with Neumaier's compensated summation."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastsum", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastsum(void) { return PyModule_Create(&module); }
