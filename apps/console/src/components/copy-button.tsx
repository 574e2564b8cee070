import { CheckOutlined, CopyOutlined } from '@ant-design/icons';
import { Button, type ButtonProps } from 'antd';
import { useState } from 'react';
import { useT } from '../i18n/index.tsx';

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // clipboard API refused (no permission or insecure origin): fall back to a hidden textarea
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyButton({ text, label, ...props }: { text: string; label?: string } & ButtonProps) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <Button
      {...props}
      icon={copied ? <CheckOutlined /> : <CopyOutlined />}
      onClick={async () => {
        await copyText(text);
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      {copied ? t('action.copied') : (label ?? t('action.copy'))}
    </Button>
  );
}
