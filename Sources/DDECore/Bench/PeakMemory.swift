import Foundation

/// The process's peak resident memory so far (the kernel's `ru_maxrss`), in MiB.
public enum PeakMemory {
    public static var residentMiB: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }
}
