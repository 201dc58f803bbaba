extension ParameterStore {
    /// The tensor that flat index `index` falls in, or nil when it is outside `0..<count`.
    ///
    /// Slots are registered back to back in offset order, so this is a binary search; it turns
    /// the flat index a one-loop scan reports (`FiniteCheck`) into a name a person can act on.
    public func slot(containing index: Int) -> ParameterSlot? {
        guard index >= 0, index < count else { return nil }
        var lo = 0, hi = slots.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if slots[mid].offset <= index { lo = mid } else { hi = mid - 1 }
        }
        return slots[lo]
    }
}
