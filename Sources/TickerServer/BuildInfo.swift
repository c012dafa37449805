/// What `ticker --version` prints and `/metrics` exports as
/// `ticker_build_info`. The version follows CHANGELOG.md; the protocol
/// version is the wire's (`welcome`'s `version`), which changes only by
/// the compatibility policy there.
public enum BuildInfo {
    public static let version = "0.10.0"
    public static let protocolVersion = 1

    /// The compiler the binary was built with, as a label value.
    public static var compiler: String {
        #if swift(>=6.3)
        "swift-6.3+"
        #else
        "swift-6"
        #endif
    }

    /// The Prometheus family: labels, value 1.
    static func metric(mode: String) -> String {
        Prometheus.metric("ticker_build_info", "gauge", "Build of the running server (labels; the value is always 1).",
                          "1", labels: "version=\"\(version)\",protocol=\"\(protocolVersion)\",compiler=\"\(compiler)\",mode=\"\(mode)\"")
    }
}
