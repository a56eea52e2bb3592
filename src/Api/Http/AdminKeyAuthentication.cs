using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using CallNotify.Application.Common.Options;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Http;

public sealed class AdminOptions
{
    public const string Section = "Admin";
    public const string HashPrefix = "sha256:";

    /// <summary>Admin API keys: the plain key, or <c>sha256:&lt;hex&gt;</c> of it.</summary>
    public List<string> ApiKeys { get; set; } = [];
}

internal sealed class AdminOptionsValidator(IHostEnvironment environment) : IValidateOptions<AdminOptions>
{
    public const int MinPlainKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        var devKeyHash = AdminKeys.Hash(DevelopmentCredentials.AdminApiKey);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = $"{AdminOptions.Section}:ApiKeys:{i}";
            var value = options.ApiKeys[i];
            if (!AdminKeys.TryDigest(value, out var digest))
            {
                failures.Add(value.StartsWith(AdminOptions.HashPrefix, StringComparison.Ordinal)
                    ? $"{key} must be 'sha256:' followed by 64 hexadecimal digits."
                    : $"{key} must be at least {MinPlainKeyLength} characters.");
            }
            else if (!environment.IsDevelopment() && CryptographicOperations.FixedTimeEquals(digest, devKeyHash))
            {
                failures.Add($"{key} is the development admin key, which is refused outside the Development environment.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The configured admin keys, held only as SHA-256 digests.</summary>
public sealed class AdminKeys(IOptions<AdminOptions> options)
{
    private readonly byte[][] _digests = [.. options.Value.ApiKeys.Select(k => TryDigest(k, out var d) ? d : []).Where(d => d.Length > 0)];

    public bool Matches(string presented)
    {
        var digest = Hash(presented);
        var match = false;
        foreach (var candidate in _digests)
        {
            match |= CryptographicOperations.FixedTimeEquals(candidate, digest);
        }

        return match;
    }

    internal static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    internal static bool TryDigest(string? configured, out byte[] digest)
    {
        digest = [];
        if (string.IsNullOrEmpty(configured))
        {
            return false;
        }

        if (configured.StartsWith(AdminOptions.HashPrefix, StringComparison.Ordinal))
        {
            var hex = configured[AdminOptions.HashPrefix.Length..];
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                return false;
            }

            digest = Convert.FromHexString(hex);
            return true;
        }

        if (configured.Length < AdminOptionsValidator.MinPlainKeyLength)
        {
            return false;
        }

        digest = Hash(configured);
        return true;
    }
}

/// <summary><c>Authorization: Bearer &lt;admin key&gt;</c> for the admin API.</summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminKeys keys,
    FailedAdminAuthLimiter failures,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string Policy = "Admin";

    private TimeSpan? _refusedFor;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // Only the admin API's requests pass here (its policy names this scheme; there is no default one). Only one
        // that presents a key costs a look at the failure count, and one out of failed attempts is refused before its
        // key is compared (RateLimits:FailedAdminAuthPerMinute).
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        _refusedFor = failures.Refusal(Context);
        if (_refusedFor is not null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Too many failed admin authentications."));
        }

        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length == 0 || presented.Length > 1024 || !keys.Matches(presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("Invalid admin key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if ((_refusedFor ??= failures.Refusal(Context)) is { } wait)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails =
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many failed admin authentications; try again later.",
                },
            });
            return;
        }

        // Every 401 counts: no key and a wrong key alike.
        failures.CountFailure(Context);
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = "An admin API key is required: 'Authorization: Bearer <key>'.",
            },
        });
    }
}
