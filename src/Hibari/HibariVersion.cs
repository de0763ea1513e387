namespace Hibari; public static class HibariVersion { public const string Value = "0.1.0"; }
