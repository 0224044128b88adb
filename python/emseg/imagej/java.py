"""The one way EMSeg configures, starts and talks to the JVM: scyjava.

pyimagej (Fiji) runs on scyjava, so plain ImageJ 1.x is started the same way:
class path, JVM options and keyword arguments go through ``scyjava.config``,
the JVM through ``scyjava.start_jvm``, classes through ``scyjava.jimport`` and
arrays through ``scyjava.jarray``. JPype, which scyjava runs on, is used
directly only where scyjava has no equivalent:

- :func:`package` (``jpype.JPackage``): attribute access to a whole Java
  package (``ij.IJ``, ``ij.process.ByteProcessor``), the object
  :func:`emseg.imagej.start_imagej` has always returned;
- :func:`implements` (``jpype.JImplements``/``JOverride``): a Python class
  implementing a Java interface (the plugin's in-process backend);
- ``jpype.config.destroy_jvm``: ImageJ leaves non-daemon threads that would
  make Python's exit wait for the JVM forever;
- :data:`JavaException` (``jpype.JException``), the base of Java exceptions.
"""

__all__ = ["use_system_java", "start", "started", "jclass", "package", "jarray", "jmatrix", "jstrings", "implements",
           "JavaException"]

try:
    from jpype import JException as JavaException
except ImportError:  # JPype is a dependency; keep import errors for start() to report
    class JavaException(Exception):
        """Stands in for jpype.JException when JPype is missing."""


def _scyjava():
    from .reference import ImageJUnavailable
    try:
        import scyjava
    except ImportError:
        raise ImageJUnavailable("scyjava is not installed (pip install scyjava)") from None
    return scyjava


def started():
    """Whether a JVM runs in this process (started by EMSeg, pyimagej or anyone else)."""
    try:
        import scyjava
    except ImportError:
        return False
    return scyjava.jvm_started()


def use_system_java():
    """Point scyjava at the Java installed here (``java`` on the PATH or ``$JAVA_HOME``).

    scyjava's default is to download a JRE on first start; EMSeg uses the
    machine's Java (Fiji's, conda's ``openjdk``, the system's) and lets scyjava
    download one only when there is none. Returns whether one was found.
    """
    import os
    import shutil

    scyjava = _scyjava()
    found = shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))
    scyjava.config.set_java_constraints(fetch="never" if found else "auto")
    return found


def start(classpath, *, headless=True, options=()):
    """Start the JVM once per process with ``classpath`` (jars) and JVM ``options``.

    Does nothing when a JVM already runs (its class path cannot change then).
    Java strings arrive in Python as ``str``.
    """
    scyjava = _scyjava()
    if scyjava.jvm_started():
        return False
    import jpype.config

    use_system_java()
    scyjava.config.add_classpath(*map(str, classpath))
    if headless:
        scyjava.config.enable_headless_mode()
    scyjava.config.add_options(list(options))
    scyjava.config.add_kwargs(convertStrings=True)
    jpype.config.destroy_jvm = False
    scyjava.start_jvm()
    # scyjava's exit hook asks whether AWT started through thread names it takes for Java
    # strings: with convertStrings they are str, and every exit printed a traceback
    import atexit

    atexit.unregister(scyjava.shutdown_jvm)
    atexit.register(_shutdown)
    return True


def _shutdown():
    scyjava = _scyjava()
    try:
        scyjava.shutdown_jvm()
    except AttributeError:          # the AWT check (see start); the shutdown hooks have run
        import jpype

        jpype.shutdownJVM()


def jclass(name):
    """The Java class ``name`` (``"ij.IJ"``); needs a running JVM."""
    return _scyjava().jimport(name)


def package(name):
    """A Java package whose classes and subpackages are attributes (``package("ij").IJ``)."""
    import jpype

    return jpype.JPackage(name)


def jarray(kind, values):
    """A Java primitive array (``kind`` as scyjava: "b", "s", "i", "f", "d") holding a copy of
    the 1D NumPy array ``values``, copied in bulk through the buffer protocol."""
    arr = _scyjava().jarray(kind, [len(values)])
    if len(values):
        arr[:] = values
    return arr


def jmatrix(kind, rows, length):
    """A Java ``kind[len(rows)][length]`` array (``double[][]``) holding the 1D NumPy ``rows``."""
    arr = _scyjava().jarray(kind, [len(rows), length])
    for i, values in enumerate(rows):
        if length:
            arr[i][:] = values
    return arr


def jstrings(values):
    """A Java ``String[]`` of the Python strings ``values``."""
    arr = _scyjava().jarray(jclass("java.lang.String"), [len(values)])
    for i, v in enumerate(values):
        arr[i] = str(v)
    return arr


def implements(interface):
    """``(class decorator, method decorator)`` to implement the Java ``interface`` in Python."""
    from jpype import JImplements, JOverride

    return JImplements(interface), JOverride
