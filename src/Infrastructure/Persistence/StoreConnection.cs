using CallNotify.Infrastructure.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence;

/// <summary>The configured store, its connection string resolved, and a description of it safe to log.</summary>
public sealed record StoreConnection(StorageProvider Provider, string ConnectionString)
{
    public static StoreConnection From(IConfiguration configuration, string contentRoot)
    {
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        var connectionString = configuration.GetConnectionString(StorageOptions.ConnectionStringName);
        if (options.Provider == StorageProvider.Postgres)
        {
            return new StoreConnection(StorageProvider.Postgres, connectionString ?? string.Empty);
        }

        // A relative SQLite path is relative to the content root, wherever the process was started from.
        var builder = new SqliteConnectionStringBuilder(connectionString ?? StorageOptions.DefaultSqliteConnectionString);
        if (builder.DataSource is { Length: > 0 } source && source != ":memory:" && !Path.IsPathRooted(source))
        {
            builder.DataSource = Path.GetFullPath(Path.Combine(contentRoot, source));
        }

        return new StoreConnection(StorageProvider.Sqlite, builder.ToString());
    }

    /// <summary>Where the data lives, without credentials.</summary>
    public string Describe()
    {
        if (Provider == StorageProvider.Sqlite)
        {
            return $"Sqlite ({new SqliteConnectionStringBuilder(ConnectionString).DataSource})";
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"Postgres ({builder.Host}:{builder.Port}/{builder.Database})";
        }
        catch (ArgumentException)
        {
            return "Postgres (connection string not readable)";
        }
    }
}
