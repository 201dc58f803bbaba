/// The dde-train version recorded in run folders and checkpoints.
public enum DDEVersion {
    public static let string = "0.1.0"
}
