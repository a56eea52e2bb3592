using System.Globalization;
using CallNotify.Application.Clients;
using Mediator;

namespace CallNotify.Api.Http;

/// <summary>
/// The client endpoints' gate (SPEC §6a): the request's address within <c>RateLimits:ClientPermitsPerMinute</c>, a
/// Twilio Access Token as <c>Authorization: Bearer</c> (401 without a good one, 403 without incoming calls allowed), then
/// the caller's identity within the same limit. The caller is then <see cref="Caller"/>.
/// </summary>
public sealed class ClientAuthenticationFilter(ISender sender, ClientRequestLimiter limits) : IEndpointFilter
{
    private const string CallerKey = "callnotify.client-caller";

    /// <summary>The authenticated caller of a client endpoint.</summary>
    public static ClientCaller Caller(HttpContext context) =>
        context.Items[CallerKey] as ClientCaller ?? throw new InvalidOperationException("The client endpoint has no authenticated caller.");

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (limits.TakeForAddress(http) is { } addressWait)
        {
            return TooMany(http, addressWait);
        }

        var authentication = await sender.Send(new AuthenticateClientQuery(BearerToken(http)), http.RequestAborted);
        switch (authentication.Status)
        {
            case ClientAuthenticationStatus.Unauthenticated:
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: authentication.Detail);
            case ClientAuthenticationStatus.Forbidden:
                return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: authentication.Detail);
        }

        var caller = authentication.Caller!;
        if (limits.TakeForIdentity(caller.AccountSid.Value, caller.Identity.Value) is { } identityWait)
        {
            return TooMany(http, identityWait);
        }

        http.Items[CallerKey] = caller;
        return await next(context);
    }

    /// <summary>The token of <c>Authorization: Bearer &lt;token&gt;</c>, or null.</summary>
    internal static string? BearerToken(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooMany(HttpContext context, TimeSpan wait)
    {
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests; slow down.");
    }
}
