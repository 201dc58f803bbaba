import Synchronization

/// Tests only: a full disk on demand. While `freeBytes` is set, every byte `FileIO` writes
/// (`writeAtomically`, `append`: checkpoints, models, logs, PNGs, reports) is taken from it; a
/// write that finds it used up fails with `ENOSPC`, after writing what still fitted, as a real
/// disk does. nil (the default) switches it off. Tests of "the disk fills" use it because an
/// unprivileged test cannot mount a small file system; the failure goes through the same error
/// path as a real `write(2)` returning ENOSPC.
public enum SimulatedDisk {
    private static let free = Mutex<Int?>(nil)

    /// Bytes left on the simulated disk, or nil when off.
    public static var freeBytes: Int? {
        get { free.withLock { $0 } }
        set { free.withLock { $0 = newValue } }
    }

    /// How many of `n` bytes the next write may put down (all of them when off).
    static func reserve(_ n: Int) -> Int {
        free.withLock { left in
            guard let l = left else { return n }
            let allowed = min(n, l)
            left = l - allowed
            return allowed
        }
    }

    /// Gives back bytes reserved but not written (a short write).
    static func refund(_ n: Int) {
        guard n > 0 else { return }
        free.withLock { left in if let l = left { left = l + n } }
    }
}
