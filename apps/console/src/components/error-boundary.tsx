import { Button, Result } from 'antd';
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useT } from '../i18n/index.tsx';

function Crashed({ error, onReset }: { error: Error; onReset(): void }) {
  const t = useT();
  return (
    <Result
      status="error"
      title={t('crash.title')}
      subTitle={t('crash.hint')}
      extra={[
        <Button key="retry" type="primary" onClick={onReset}>
          {t('action.retry')}
        </Button>,
        <Button key="reload" onClick={() => window.location.reload()}>
          {t('crash.reload')}
        </Button>,
      ]}
    >
      <pre className="maas-mono" style={{ fontSize: 12, opacity: 0.7, whiteSpace: 'pre-wrap', margin: 0 }}>
        {error.message}
      </pre>
    </Result>
  );
}

/** A page that throws while rendering shows this, in words, instead of a blank screen. */
export class ErrorBoundary extends Component<
  { children: ReactNode; resetKey?: string },
  { error: Error | null }
> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('console page crashed', error, info.componentStack);
  }

  override render() {
    if (this.state.error)
      return <Crashed error={this.state.error} onReset={() => this.setState({ error: null })} />;
    return this.props.children;
  }
}
