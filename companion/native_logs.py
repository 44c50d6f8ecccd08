"""TensorFlow's native start-up lines kept out of what a student reads.

TensorFlow's C++ libraries log through absl before Python can configure them, so TF_CPP_MIN_LOG_LEVEL
does not silence "oneDNN custom operations are on", "Could not find cuda drivers" or, on a
machine without a GPU, a `cuInit` error: they go straight to file descriptor 2 while Keras is
imported. `import_keras_quietly` catches that descriptor for the import and lets through every
line that is not such noise.
"""

import os
import re
import sys
import tempfile

# What TensorFlow's native libraries print when they load, whatever TF_CPP_MIN_LOG_LEVEL says: absl's
# start-up line, informational lines, and the GPU probes of a machine without one (cuInit, cuDNN).
NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)|I\d{4} |"
    r"[WE]\d{4} .*\b(cuda_\w+|cudart_stub|cpu_feature_guard|port|computation_placer)\.cc:\d+\]|"
    r"To enable the following instructions:|This TensorFlow binary is optimized")


def import_keras_quietly():
    """Import Keras, and with it TensorFlow or JAX, keeping the native start-up noise (`NOISE`)
    out of the output; anything else written meanwhile still reaches stderr."""
    if "keras" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not NOISE.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
