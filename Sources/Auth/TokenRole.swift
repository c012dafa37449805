/// What a token lets its holder do. The `role` claim; a token without one subscribes.
public enum TokenRole: String, Sendable, Equatable, CaseIterable {
    case subscribe, publish, admin
}
