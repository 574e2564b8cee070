import { Button, Result } from 'antd';
import { Link } from 'react-router';
import { useT } from '../i18n/index.tsx';

export default function NotFoundPage() {
  const t = useT();
  return (
    <Result
      status="404"
      title={t('notfound.title')}
      subTitle={t('notfound.hint')}
      extra={
        <Link to="/">
          <Button type="primary">{t('notfound.home')}</Button>
        </Link>
      }
    />
  );
}
