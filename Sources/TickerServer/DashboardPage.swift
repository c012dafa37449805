/// The dashboard, compiled into the binary (see Scripts/embed-assets.py).
enum DashboardPage {
    static let bytes: [UInt8] = Array(EmbeddedAssets.dashboardHTML.utf8)
}
