import type { enPasskeys } from './en-passkeys.ts';

/** 通行密钥（个人资料页与登录第二步）的中文文案。 */
export const zhPasskeys: Record<keyof typeof enPasskeys, string> = {
  'passkeys.title': '通行密钥',
  'passkeys.hint': '通行密钥（设备的屏幕锁、安全密钥或手机）可以代替验证码完成登录的第二步。',
  'passkeys.add': '添加通行密钥',
  'passkeys.name': '名称',
  'passkeys.name_placeholder': '例如：工作笔记本',
  'passkeys.added': '已添加通行密钥',
  'passkeys.removed': '已移除通行密钥',
  'passkeys.remove': '移除',
  'passkeys.remove_confirm': '移除此通行密钥？之后它不能再用于登录。',
  'passkeys.empty': '还没有通行密钥',
  'passkeys.last_used': '上次使用',
  'passkeys.never': '从未',
  'passkeys.cancelled': '浏览器没有创建通行密钥（已取消或不支持）。',
  'login.mfa_passkey': '使用通行密钥',
  'login.mfa_passkey_failed': '通行密钥未能登录。请重试或使用验证码。',
};
