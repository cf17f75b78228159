using Microsoft.AspNetCore.Routing;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeCom;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the 企业微信 callbacks.</summary>
public static class WeComEndpoints
{
    /// <summary>Maps <c>GET</c> (URL verification) and <c>POST</c> (messages) at <c>/wechat/wecom/{app}</c>, the
    /// URL set in the app's 接收消息 → 设置API接收. An unknown app is a 404.</summary>
    public static IEndpointRouteBuilder MapWeCom(this IEndpointRouteBuilder endpoints) => endpoints.MapWeChatCallback<WeComChannel>("/wechat/wecom/{name}");
}
