using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using Microsoft.AspNetCore.WebUtilities;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// <c>/openapi/v1.json</c> describes the service as the contract does: what it is, how each endpoint authenticates,
/// and every status each endpoint can answer, with its meaning. The document does not depend on the store.
/// </summary>
[TestFixture(StoreKind.Sqlite)]
public sealed class OpenApiDocumentTests(StoreKind store) : ApiFixture(store)
{
    private const string AdminScheme = "adminKey";
    private const string WebSocketTokenScheme = "webSocketToken";
    private const string TwilioSignatureScheme = "twilioSignature";
    private const string AccessTokenScheme = "twilioAccessToken";

    /// <summary>Every operation the document must hold, the statuses it must document, and the scheme it requires.</summary>
    private static readonly Dictionary<(string Path, string Method), (int[] Statuses, string? Scheme)> Expected = new()
    {
        [("/calls/notificationWebhook", "post")] = ([200, 400, 403, 404, 413, 415, 429, 503], TwilioSignatureScheme),
        [("/v1/websocket", "get")] = ([101, 400, 401, 403, 429], WebSocketTokenScheme),
        [("/v1/registrations", "post")] = ([200, 201, 400, 401, 403, 409, 415, 429, 503], AccessTokenScheme),
        [("/v1/registrations", "get")] = ([200, 401, 403, 429, 503], AccessTokenScheme),
        [("/v1/registrations", "delete")] = ([204, 400, 401, 403, 404, 415, 429, 503], AccessTokenScheme),
        [("/v1/registrations/{id}", "get")] = ([200, 401, 403, 404, 429, 503], AccessTokenScheme),
        [("/v1/receipts", "post")] = ([204, 400, 401, 403, 404, 415, 429, 503], AccessTokenScheme),
        [("/admin/v1/bindings", "post")] = ([200, 201, 400, 401, 409, 415, 429, 503], AdminScheme),
        [("/admin/v1/bindings", "get")] = ([200, 400, 401, 429, 503], AdminScheme),
        [("/admin/v1/bindings", "delete")] = ([200, 400, 401, 429, 503], AdminScheme),
        [("/admin/v1/bindings/{id}", "get")] = ([200, 401, 404, 429, 503], AdminScheme),
        [("/admin/v1/bindings/{id}", "delete")] = ([204, 401, 404, 429, 503], AdminScheme),
        [("/admin/v1/websocket-tokens", "post")] = ([200, 400, 401, 415, 429], AdminScheme),
        [("/admin/v1/notifications/{twiMessageId}", "get")] = ([200, 400, 401, 404, 429, 503], AdminScheme),
        [("/admin/v1/notifications", "get")] = ([200, 400, 401, 429, 503], AdminScheme),
        [("/admin/v1/overview", "get")] = ([200, 401, 429], AdminScheme),
        [("/admin/v1/sessions", "get")] = ([200, 400, 401, 429, 503], AdminScheme),
        [("/admin/v1/test-calls", "post")] = ([200, 400, 401, 415, 429], AdminScheme),
        [("/healthz", "get")] = ([200], null),
        [("/readyz", "get")] = ([200, 503], null),
        [("/metrics", "get")] = ([200], null),
    };

    private JsonElement _document;

    [OneTimeSetUp]
    public async Task ReadDocumentAsync() => _document = await Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

    [Test]
    public void InfoNamesTheServiceItsBuildAndWhatItDoes()
    {
        var info = _document.GetProperty("info");
        var buildVersion = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(info.GetProperty("title").GetString(), Is.EqualTo("CallNotify"));
            Assert.That(info.GetProperty("version").GetString(), Is.EqualTo(buildVersion));
            Assert.That(info.TryGetProperty("description", out var description) ? description.GetString() : null, Is.Not.Null.And.Contains("Twilio"));
        }
    }

    [Test]
    public void DeclaresTheThreeSecuritySchemes()
    {
        Assert.That(_document.TryGetProperty("components", out var components) && components.TryGetProperty("securitySchemes", out _), "components.securitySchemes");
        var schemes = _document.GetProperty("components").GetProperty("securitySchemes");

        using (Assert.EnterMultipleScope())
        {
            AssertScheme(schemes, AdminScheme, ("type", "http"), ("scheme", "bearer"));
            AssertScheme(schemes, WebSocketTokenScheme, ("type", "apiKey"), ("in", "query"), ("name", "token"));
            AssertScheme(schemes, TwilioSignatureScheme, ("type", "apiKey"), ("in", "header"), ("name", "X-Twilio-Signature"));
        }
    }

    [Test]
    public void HoldsExactlyTheExpectedOperations()
    {
        var operations = Operations().Select(o => (o.Path, o.Method)).ToList();

        Assert.That(operations, Is.EquivalentTo(Expected.Keys), "a new endpoint needs its row in Expected (and its statuses documented)");
    }

    [Test]
    public void EveryOperationHasASummaryAndDocumentsItsStatusesWithTheirMeaning()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (var (path, method, operation) in Operations())
            {
                var name = $"{method.ToUpperInvariant()} {path}";
                Assert.That(operation.TryGetProperty("summary", out var summary) ? summary.GetString() : null, Is.Not.Null.And.Not.Empty, $"{name}: summary");
                if (!Expected.TryGetValue((path, method), out var expected))
                {
                    continue;
                }

                var responses = operation.GetProperty("responses");
                foreach (var status in expected.Statuses)
                {
                    var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (!responses.TryGetProperty(key, out var response))
                    {
                        Assert.Fail($"{name}: status {status} is not documented");
                        continue;
                    }

                    var description = response.TryGetProperty("description", out var d) ? d.GetString() : null;
                    Assert.That(description, Is.Not.Null.And.Not.Empty.And.Not.EqualTo(ReasonPhrases.GetReasonPhrase(status)), $"{name}: the meaning of {status}, not its reason phrase");
                    // Every 429 and 503 says when to come back, but the health check's (it sends no Retry-After).
                    if (status is 429 or 503 && path != "/readyz")
                    {
                        Assert.That(response.TryGetProperty("headers", out var headers) && headers.TryGetProperty("Retry-After", out _), $"{name}: {status} documents Retry-After");
                    }
                }
            }
        }
    }

    [Test]
    public void EveryOperationRequiresItsSecurityScheme()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (var (path, method, operation) in Operations())
            {
                var required = operation.TryGetProperty("security", out var security)
                    ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(s => s.Name)).ToList()
                    : [];
                var expected = path.StartsWith("/admin/v1/", StringComparison.Ordinal)
                    ? AdminScheme
                    : Expected.TryGetValue((path, method), out var row) ? row.Scheme : null;
                if (expected is null)
                {
                    Assert.That(required, Is.Empty, $"{method.ToUpperInvariant()} {path} needs no credentials");
                }
                else
                {
                    Assert.That(required, Is.EqualTo(new[] { expected }), $"{method.ToUpperInvariant()} {path}");
                }
            }
        }
    }

    private IEnumerable<(string Path, string Method, JsonElement Operation)> Operations() =>
        _document.GetProperty("paths").EnumerateObject().SelectMany(path =>
            path.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "put" or "post" or "delete" or "patch" or "head" or "options")
                .Select(o => (path.Name, o.Name, o.Value)));

    private static void AssertScheme(JsonElement schemes, string name, params (string Property, string Value)[] expected)
    {
        if (!schemes.TryGetProperty(name, out var scheme))
        {
            Assert.Fail($"security scheme {name} is missing");
            return;
        }

        foreach (var (property, value) in expected)
        {
            Assert.That(scheme.TryGetProperty(property, out var actual) ? actual.GetString() : null, Is.EqualTo(value).IgnoreCase, $"{name}.{property}");
        }

        Assert.That(scheme.TryGetProperty("description", out var description) ? description.GetString() : null, Is.Not.Null.And.Not.Empty, $"{name}.description");
    }
}
