# Helpers the bench scripts share (sourced by bench/run.sh and bench/ab.sh; both set IMG).

# dense_copy FILE: FILE holds all 2 GiB of raw-dense-2g.img, every block allocated (copied once,
# kept between rounds and runs): a write target whose pages are already the file's.
dense_copy() {
  [ "$(stat -c %s "$1" 2>/dev/null)" = 2147483648 ] && [ "$(stat -c %b "$1")" -ge 4194304 ] \
    || cp --sparse=never "$IMG/raw-dense-2g.img" "$1"
}
