#if canImport(Glibc)
import Glibc
#endif

/// Whole small files (a symbol universe, a config) read with plain syscalls,
/// so the pure modules that parse them never touch the file system.
public enum FileReader {
    /// The file's bytes, at most `limit` of them (a larger file is `EFBIG`:
    /// a configuration file is never meant to be that big). A directory is
    /// `EISDIR`, from read(2) itself.
    public static func readAll(path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("open") }
        defer { Syscall.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let result = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) -> IOResult in try Syscall.read(fd, into: buffer) }
            }
            guard case .processed(let n) = try result.get() else { continue }   // a regular file never blocks
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else { throw SystemError("read", errno: EFBIG) }
            bytes.append(contentsOf: chunk[..<n])
        }
    }
}
