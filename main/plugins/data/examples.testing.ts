// Test support: the examples of nbdkit-data-plugin(1), shared by the plugin's unit tests and
// the parity tests that run them under nbdkit too.

/** The man page's MBR example: one Linux partition entry and the boot signature. */
export const MBR_EXAMPLE = `
  @0x1be    # MBR first partition entry
    0           # Partition status
    0 2 0       # CHS start
    0x83        # Partition type (Linux)
    0x20 0x20 0 # CHS last sector
    le32:1      # LBA first sector
    le32:0x7ff  # LBA number of sectors
  @0x1fe    # Boot signature
    0x55 0xaa
`;
