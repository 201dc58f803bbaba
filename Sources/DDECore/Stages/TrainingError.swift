/// Training cannot go on: NaN or Inf, a resume that does not fit. Says the step and what.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
