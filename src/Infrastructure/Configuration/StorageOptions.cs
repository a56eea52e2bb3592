using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Configuration;

public enum StorageProvider
{
    Sqlite,
    Postgres,
}

public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string ConnectionStringName = "CallNotify";
    public const string DefaultSqliteConnectionString = "Data Source=App_Data/callnotify.db";

    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>Apply pending migrations when the service starts. Off: run the Api with the <c>migrate</c> argument instead.</summary>
    public bool MigrateOnStartup { get; set; } = true;
}

internal sealed class StorageOptionsValidator(IConfiguration configuration) : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (!Enum.IsDefined(options.Provider))
        {
            return ValidateOptionsResult.Fail($"{StorageOptions.Section}:Provider must be 'Sqlite' or 'Postgres'.");
        }

        if (options.Provider == StorageProvider.Postgres
            && string.IsNullOrWhiteSpace(configuration.GetConnectionString(StorageOptions.ConnectionStringName)))
        {
            return ValidateOptionsResult.Fail(
                $"ConnectionStrings:{StorageOptions.ConnectionStringName} is required when {StorageOptions.Section}:Provider is 'Postgres'.");
        }

        return ValidateOptionsResult.Success;
    }
}
