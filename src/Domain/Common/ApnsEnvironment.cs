namespace CallNotify.Domain.Common;

public enum ApnsEnvironment
{
    Production,
    Sandbox,
}

public static class ApnsEnvironments
{
    public static string ToWire(this ApnsEnvironment environment) =>
        environment == ApnsEnvironment.Sandbox ? "sandbox" : "production";

    public static bool TryParse(string? value, out ApnsEnvironment environment)
    {
        switch (value)
        {
            case null or "production": environment = ApnsEnvironment.Production; return true;
            case "sandbox": environment = ApnsEnvironment.Sandbox; return true;
            default: environment = default; return false;
        }
    }

    public static ApnsEnvironment Parse(string? value) =>
        TryParse(value, out var environment)
            ? environment
            : throw new DomainException("environment", "The environment is 'production' or 'sandbox'.");
}
