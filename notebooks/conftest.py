import os

# Progress bars print timings, which are not output: off in the kernels nbval starts from this
# process (they inherit its environment), also when only the notebooks are tested.
os.environ["NNLIB_PROGRESS"] = "0"
